"""Done when: a labelled fallback becomes a training example through `make export-training`.

Messages the real bot does not understand (nlu_fallback: one with a phone number, one with an
id card) go through the real Rasa server, its SQL event broker and the consumer process into
analytics; an agent labels their groups through the console API; `make export-training` writes
them as Rasa NLU YAML, masked, which Rasa's reader loads.
"""
from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from rasa.shared.nlu.training_data.loading import load_data

from bot.privacy import mask_personal_data
from bot.settings import PROJECT_ROOT
from tests.e2e.conftest import AGENT_NAME, AGENT_PASSWORD
from tests.e2e.handoff_helpers import new_sender, say
from tests.e2e.test_analytics_pipeline import consume_once

PHONE, ID_CARD = "13812345678", "110101199003071234"
# nlu_fallback with the current model (a number alone leans to out_of_scope or request_human).
UNCLEAR = {f"备案那个东西咋整 {PHONE}": "filing_process", f"那个东西咋整 身份证{ID_CARD}": "request_human"}


def test_a_labelled_fallback_becomes_a_training_example(servers_work, console, tmp_path):
    rasa_url, work = servers_work
    for text in UNCLEAR:
        assert say(rasa_url, new_sender(), text)
    consume_once(work)

    token = httpx.post(f"{console}/api/login", json={"name": AGENT_NAME, "password": AGENT_PASSWORD}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # a day either side: midnight may pass meanwhile
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    listed = httpx.get(f"{console}/api/review/groups", params=period, headers=auth)
    assert listed.status_code == 200, listed.text
    assert PHONE not in listed.text and ID_CARD not in listed.text
    masked = {mask_personal_data(text): label for text, label in UNCLEAR.items()}
    for text, label in masked.items():
        group = next((g for g in listed.json()["groups"] if any(m["text"] == text for m in g["messages"])), None)
        assert group is not None, f"{text} not listed as not understood: {listed.json()['groups']}"
        assert "fallback" in group["reasons"], group
        labelled = httpx.post(f"{console}/api/review/groups/{group['id']}/label", params=period,
                              json={"label": label}, headers=auth)
        assert labelled.status_code == 200 and labelled.json()["decided"] == group["count"], labelled.text

    out = tmp_path / "reviewed"
    env = {**os.environ, "FILING_DB_URL": f"sqlite:///{work / 'filing.db'}"}
    done = subprocess.run(["make", "--no-print-directory", "-o", "install", "export-training", f"ARGS=--out {out}"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    files = list(out.glob("reviewed_*.yml"))
    assert len(files) == 1, done.stdout
    examples = {m.get("text"): m.get("intent") for m in load_data(str(files[0])).intent_examples}
    assert {text: examples.get(text) for text in masked} == masked, (examples, done.stdout)
    written = files[0].read_text(encoding="utf-8")
    assert PHONE not in written and ID_CARD not in written and PHONE not in done.stdout
