"""The secrets of a development machine: the environment's, else one generated once under var/secrets/.

`make run` (scripts/run-servers), `make cluster` and the web chat's session secret all read their
tokens here, so the servers and the consoles they start agree without any setup.

    python -m bot.local_secrets RASA_API_TOKEN    # prints it (generating it on first use)
"""
from __future__ import annotations

import os
import secrets
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from bot.settings import settings as current_settings


class SecretError(RuntimeError):
    """A secret that is set or kept but unusable (the message says where)."""


def secret_path(variable: str, var_dir: Path | None = None) -> Path:
    """Where the generated value of `variable` is kept: var/secrets/<variable in lower case>."""
    return (var_dir or current_settings().var_dir) / "secrets" / variable.lower()


def local_secret(variable: str, env: Mapping[str, str] | None = None, var_dir: Path | None = None,
                 min_chars: int = 1) -> str:
    """`variable` from `env`, else its file under var/secrets/ (created once, mode 0600, then reused)."""
    env = current_settings().env if env is None else env
    given = (env.get(variable) or "").strip()
    if given:
        if len(given) < min_chars:
            raise SecretError(f"{variable} must be at least {min_chars} characters")
        return given
    path = secret_path(variable, var_dir)
    if not path.exists():
        _create_secret_file(path)
    kept = path.read_text(encoding="ascii").strip()
    if len(kept) < min_chars:
        raise SecretError(f"{path} holds no usable secret: delete it to have a new one generated")
    return kept


def _create_secret_file(path: Path) -> None:
    # Written aside, then linked into place: a process starting at the same moment (the console
    # beside the Rasa server) reads either nothing yet or the whole secret, and one secret wins.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".draft-")  # mkstemp makes it 0600
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process won the race: its secret is the one
    finally:
        os.unlink(draft)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m bot.local_secrets VARIABLE")
    print(local_secret(args[0]))


if __name__ == "__main__":
    main()
