"""Done when: a labelled fallback becomes a training example through `make export-training`.

A message the real bot does not understand (with a phone number and an id card in it) goes
through the real Rasa server, its SQL event broker and the consumer process into analytics;
an agent labels its group through the console API; `make export-training` writes it as Rasa
NLU YAML, masked, which Rasa's reader loads.
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
UNCLEAR = f"那个玩意儿咋弄啊 我电话{PHONE} 身份证{ID_CARD}"
LABEL = "request_human"


def test_a_labelled_fallback_becomes_a_training_example(servers_work, console, tmp_path):
    rasa_url, work = servers_work
    assert say(rasa_url, new_sender(), UNCLEAR)
    consume_once(work)

    token = httpx.post(f"{console}/api/login", json={"name": AGENT_NAME, "password": AGENT_PASSWORD}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # a day either side: midnight may pass meanwhile
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    listed = httpx.get(f"{console}/api/review/groups", params=period, headers=auth)
    assert listed.status_code == 200, listed.text
    masked = mask_personal_data(UNCLEAR)
    group = next((g for g in listed.json()["groups"] if any(m["text"] == masked for m in g["messages"])), None)
    assert group is not None, f"not listed as not understood: {listed.json()['groups']}"
    assert PHONE not in listed.text and ID_CARD not in listed.text
    labelled = httpx.post(f"{console}/api/review/groups/{group['id']}/label", params=period,
                          json={"label": LABEL}, headers=auth)
    assert labelled.status_code == 200 and labelled.json()["decided"] == group["count"], labelled.text

    out = tmp_path / "reviewed"
    env = {**os.environ, "FILING_DB_URL": f"sqlite:///{work / 'filing.db'}"}
    done = subprocess.run(["make", "--no-print-directory", "-o", "install", "export-training", f"ARGS=--out {out}"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    files = list(out.glob("reviewed_*.yml"))
    assert len(files) == 1, done.stdout
    examples = {m.get("text"): m.get("intent") for m in load_data(str(files[0])).intent_examples}
    assert examples.get(masked) == LABEL, (examples, done.stdout)
    written = files[0].read_text(encoding="utf-8")
    assert PHONE not in written and ID_CARD not in written and PHONE not in done.stdout
