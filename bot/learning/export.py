"""`make export-training`: the agents' labels as Rasa NLU training data (data/nlu/reviewed/).

`python -m bot.learning.export [--out DIR] [--dry-run]` reads the labelled messages not yet
exported (bot/learning/models.py, FILING_DB_URL) and writes them as one file per run,
`reviewed_<UTC time>.yml` (Rasa 3.x `version: "3.1"`, `nlu:`, `- intent: <name>` with
`examples: |`; a FAQ answer as the retrieval intent `faq/<key>`, as data/nlu/faq_*.yml). It refuses,
and lists, every message that
- is a near-duplicate of a holdout message (tests/nlu/holdout.yml, realistic.yml, fresh.yml, keywords.yml;
  bot/learning/near_duplicates.py, the filter the holdout tests apply to the training data):
  a holdout must stay a message the model never saw;
- is already in the training data (the same text once normalised, under any intent): an
  example is never written twice nor given a second intent;
- was given two different labels (the same normalised text), or looks like Rasa's entity
  markup (`[text](entity)`), which the reader would parse.
Only the masked text is written (masked once more on the way: nothing unmasked can pass). The
written rows are marked exported (when, which file), so the next run writes only new labels.
The file is read back with Rasa's training-data reader before the rows are marked.
"""
from __future__ import annotations

import argparse
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.learning.models import LABELLED, ReviewLabel
from bot.learning.near_duplicates import near_duplicates, normalized
from bot.privacy import mask_personal_data
from bot.settings import PROJECT_ROOT

TRAINING = PROJECT_ROOT / "data" / "nlu"
OUT = TRAINING / "reviewed"
HOLDOUTS = tuple(PROJECT_ROOT / "tests" / "nlu" / name for name in ("holdout.yml", "realistic.yml", "fresh.yml", "keywords.yml"))
ENTITY_MARKUP = re.compile(r"\[[^\]]+?\](\(|\{|\[)")
_SPACES = re.compile(r"\s+")


@dataclass
class Export:
    written: dict[str, list[str]] = field(default_factory=dict)  # label -> texts
    path: Path | None = None
    near_holdout: list[tuple[str, str, str, float]] = field(default_factory=list)  # text, label, holdout, score
    in_training: list[tuple[str, str]] = field(default_factory=list)  # text, label
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # text, label, why

    def report(self) -> str:
        count = sum(len(texts) for texts in self.written.values())
        lines = [f"exported {count} example(s)" + (f" to {_shown(self.path)}" if self.path else "")]
        lines += [f"  {label}: {text}" for label, texts in sorted(self.written.items()) for text in texts]
        if self.near_holdout:
            lines.append(f"refused {len(self.near_holdout)} near-duplicate(s) of the holdouts:")
            lines += [f"  {label}: {text}  ~ {holdout} ({score})" for text, label, holdout, score in self.near_holdout]
        if self.in_training:
            lines.append(f"skipped {len(self.in_training)} already in the training data:")
            lines += [f"  {label}: {text}" for text, label in self.in_training]
        if self.refused:
            lines.append(f"refused {len(self.refused)} other(s):")
            lines += [f"  {label}: {text}  ({why})" for text, label, why in self.refused]
        return "\n".join(lines)


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def _texts(path: Path) -> list[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [m.get("text") for m in load_data(str(path)).intent_examples]


def example_text(stored: str) -> str:
    """The text as one example line: masked, on one line, trimmed."""
    return _SPACES.sub(" ", mask_personal_data(stored)).strip()


def render(examples: dict[str, list[str]], at: datetime) -> str:
    """Rasa 3.x NLU YAML of `examples` (label -> texts), labels sorted."""
    lines = ['version: "3.1"',
             f"# Labelled by agents in the console (the learning loop); `make export-training` at {at:%Y-%m-%d %H:%M} UTC.",
             "nlu:"]
    for label in sorted(examples):
        lines += [f"- intent: {label}", "  examples: |"] + [f"    - {text}" for text in examples[label]] + [""]
    return "\n".join(lines)


def plan(rows: list[ReviewLabel], training: list[str], holdouts: list[str]) -> Export:
    """What to write and what to refuse (module docstring), in the rows' order."""
    result = Export()
    known = {normalized(t) for t in training}
    labels_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        labels_of[normalized(example_text(row.text_masked))].add(row.label)
    near = {text: (holdout, score) for text, holdout, score in
            near_duplicates([example_text(r.text_masked) for r in rows], holdouts)}
    taken: set[str] = set()
    for row in rows:
        text, label = example_text(row.text_masked), row.label
        key = normalized(text)
        if not key:
            result.refused.append((text, label, "nothing left to learn once normalised"))
        elif ENTITY_MARKUP.search(text):
            result.refused.append((text, label, "looks like entity markup"))
        elif len(labels_of[key]) > 1:
            result.refused.append((text, label, "labelled differently too: " + ", ".join(sorted(labels_of[key]))))
        elif text in near:
            result.near_holdout.append((text, label, *near[text]))
        elif key in known:
            result.in_training.append((text, label))
        elif key not in taken:
            taken.add(key)
            result.written.setdefault(label, []).append(text)
    return result


def export(factory: sessionmaker, out: Path = OUT, training: Path = TRAINING,
           holdouts: tuple[Path, ...] = HOLDOUTS, dry_run: bool = False, now: datetime | None = None) -> Export:
    """Write the labelled messages not yet exported; mark the written ones (module docstring)."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    holdout_texts = [t for path in holdouts for t in _texts(path)]
    with factory() as session, session.begin():
        rows = _pending(session)
        result = plan(rows, _texts(training), holdout_texts)
        if not result.written or dry_run:
            return result
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"reviewed_{now:%Y%m%dT%H%M%S}.yml"
        draft = path.with_suffix(".yml.tmp")
        draft.write_text(render(result.written, now), encoding="utf-8")
        read_back = sorted(_texts_of_file(draft))
        if read_back != sorted(t for texts in result.written.values() for t in texts):
            draft.unlink()
            raise RuntimeError("the exported file does not read back as written")
        draft.replace(path)
        result.path = path
        written = {(label, text) for label, texts in result.written.items() for text in texts}
        for row in rows:
            if (row.label, example_text(row.text_masked)) in written:
                row.exported_at, row.exported_to = now, _shown(path)[:255]
    return result


def _texts_of_file(path: Path) -> list[str]:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    return [m.get("text") for m in RasaYAMLReader().read(str(path)).intent_examples]


def _pending(session: Session) -> list[ReviewLabel]:
    return list(session.scalars(select(ReviewLabel).where(ReviewLabel.status == LABELLED,
                                                         ReviewLabel.exported_at.is_(None)).order_by(ReviewLabel.id)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the agents' labels as Rasa NLU data (data/nlu/reviewed/)")
    parser.add_argument("--out", type=Path, default=OUT, help="the folder of the exported files")
    parser.add_argument("--dry-run", action="store_true", help="list what would be written; write and mark nothing")
    args = parser.parse_args(argv)
    from bot.bootstrap import container

    result = export(container().migrated_filing_sessions(), out=args.out, dry_run=args.dry_run)
    print(result.report())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
