"""Train a Rasa model when none exists or its inputs changed (`--force` always trains)."""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
MODEL_NAME = "filing-assistant"
FINGERPRINT_FILE = MODELS / ".fingerprint"
# Everything a trained model depends on (of the knowledge base, only the FAQ answers
# and their links are baked into the model; other texts are read at run time).
INPUTS = [
    "config.yml",
    "domain.yml",
    "data/nlu",
    "data/rules",
    "data/stories",
    "data/knowledge/faq.yml",
    "data/knowledge/links.yml",
    "bot/nlu",
    "requirements/lock.txt",
]
LOCK = "requirements/lock.txt"
# Runtime packages no training step imports (the servers' metrics): their pins are left out of
# the fingerprint, so adding or moving one retrains nobody's model. Any other lock change retrains.
NOT_TRAINING_PACKAGES = frozenset({"prometheus-client"})


def _package(line: bytes) -> str:
    """The normalised package name of a lock line (`Foo_Bar==1.0` -> `foo-bar`)."""
    return line.split(b"==", 1)[0].strip().decode(errors="replace").lower().replace("_", "-")


def training_content(relative: str, content: bytes) -> bytes:
    """What of a training input's bytes the model depends on: the lock without NOT_TRAINING_PACKAGES."""
    if relative != LOCK:
        return content
    return b"".join(line for line in content.splitlines(keepends=True) if _package(line) not in NOT_TRAINING_PACKAGES)


def fingerprint() -> str:
    """A hash over the contents of every training input."""
    digest = hashlib.sha256()
    for entry in INPUTS:
        path = ROOT / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            relative = file.relative_to(ROOT).as_posix()
            digest.update(relative.encode())
            digest.update(training_content(relative, file.read_bytes()))
    return digest.hexdigest()


def model_path() -> Path:
    return MODELS / f"{MODEL_NAME}.tar.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="train even when nothing changed")
    args = parser.parse_args()
    current = fingerprint()
    up_to_date = model_path().exists() and FINGERPRINT_FILE.exists() and FINGERPRINT_FILE.read_text() == current
    if up_to_date and not args.force:
        print(f"model up to date: {model_path().relative_to(ROOT)}")
        return 0
    MODELS.mkdir(exist_ok=True)
    print("training the model (a few minutes on 2 cores) ...", flush=True)
    command = [
        str(Path(sys.executable).with_name("rasa")), "train",
        "--fixed-model-name", MODEL_NAME, "--out", str(MODELS), "--force",
    ]
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
    if result.returncode != 0:
        return result.returncode
    FINGERPRINT_FILE.write_text(current)
    return 0


if __name__ == "__main__":
    sys.exit(main())
