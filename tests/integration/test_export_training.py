"""`make export-training` (bot/learning/export.py): labelled messages as Rasa NLU data that
Rasa reads and `rasa data validate` accepts; holdout near-duplicates refused, known examples
never written again, only masked text."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from bot.analytics.figures import parse_period
from bot.learning import review
from bot.learning.export import export
from bot.learning.models import ReviewLabel
from bot.settings import PROJECT_ROOT
from tests.learning_helpers import (
    HOLDOUT_TEXT,
    ID_CARD,
    NEW_DURATION,
    PERSONAL,
    PHONE,
    TRAINING_TEXT,
    UNCLEAR,
    UNCLEAR_SHORT,
    scripted_database,
)

PERIOD = parse_period("2026-11-20", "2026-11-20", "Asia/Shanghai")
LABELS = {UNCLEAR: "troubleshoot_cloudrun", UNCLEAR_SHORT: "troubleshoot_cloudrun", NEW_DURATION: "faq/duration",
          HOLDOUT_TEXT: "first_filing", TRAINING_TEXT: "faq/duration"}


@pytest.fixture
def labelled(tmp_path):
    _, engine, factory = scripted_database(tmp_path)
    with factory() as session, session.begin():
        messages = review.not_understood(session, PERIOD)
        for message in messages:
            label = LABELS.get(message.text) or ("request_human" if PHONE[:3] in message.text else None)
            if label:
                review.decide(session, [message], label, "carol")
    yield factory
    engine.dispose()


def examples(path: Path) -> dict[str, str]:
    return {m.get("text"): m.get("intent_response_key") or m.get("intent") for m in load_data(str(path)).intent_examples}


def test_labelled_messages_become_examples_and_the_rest_is_listed(labelled, tmp_path):
    out = tmp_path / "reviewed"
    listed = export(labelled, out=out, dry_run=True)  # lists, writes and marks nothing
    assert listed.path is None and not out.exists() and sum(map(len, listed.written.values())) == 4
    result = export(labelled, out=out)
    assert result.path is not None and result.path.parent == out and result.path.name.startswith("reviewed_")
    masked = next(t for texts in result.written.values() for t in texts if "138" in t)
    assert examples(result.path) == {UNCLEAR: "troubleshoot_cloudrun", UNCLEAR_SHORT: "troubleshoot_cloudrun",
                                     NEW_DURATION: "faq/duration", masked: "request_human"}
    assert [(text, label) for text, label, _, _ in result.near_holdout] == [(HOLDOUT_TEXT, "first_filing")]
    assert result.in_training == [(TRAINING_TEXT, "faq/duration")]
    written = result.path.read_text(encoding="utf-8")
    assert written.startswith('version: "3.1"\n') and "- intent: faq/duration\n  examples: |\n" in written
    assert PHONE not in written and ID_CARD not in written and PERSONAL not in written
    assert "138****5678" in masked and "110101********1234" in masked
    report = result.report()
    assert "refused 1 near-duplicate(s) of the holdouts" in report and HOLDOUT_TEXT in report
    assert "skipped 1 already in the training data" in report

    again = export(labelled, out=out)  # only new labels are written
    assert again.path is None and again.written == {} and len(list(out.iterdir())) == 1
    with labelled() as session:
        exported = {r.text_masked: r.exported_to for r in session.query(ReviewLabel)}
        assert exported[NEW_DURATION].endswith(result.path.name) and exported[HOLDOUT_TEXT] is None


def test_an_exported_example_is_never_written_twice(labelled, tmp_path):
    """A second database labelling what the first run wrote: found in the training data."""
    training = tmp_path / "training"
    shutil.copytree(PROJECT_ROOT / "data" / "nlu", training)
    first = export(labelled, out=training / "reviewed", training=training)
    with labelled() as session, session.begin():
        for row in session.query(ReviewLabel):
            row.exported_at = row.exported_to = None
    second = export(labelled, out=training / "reviewed", training=training)
    assert second.written == {} and {t for t, _ in second.in_training} >= set(first.written["faq/duration"])


def test_rasa_data_validate_passes_with_the_exported_file(labelled, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("config.yml", "domain.yml"):
        shutil.copy(PROJECT_ROOT / name, project / name)
    shutil.copytree(PROJECT_ROOT / "data", project / "data")
    result = export(labelled, out=project / "data" / "nlu" / "reviewed")
    assert result.path is not None
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RASA_TELEMETRY_ENABLED": "false",
           "KNOWLEDGE_DIR": str(project / "data" / "knowledge")}
    rasa = Path(sys.executable).parent / "rasa"
    done = subprocess.run([str(rasa), "data", "validate", "--max-history", "5"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert set(examples(project / "data" / "nlu")) >= {UNCLEAR, NEW_DURATION}
