"""The console's learning-loop routes (bot/console/review.py): agents only, groups listed,
labelled and dismissed, refusals with the reason."""
from __future__ import annotations

import httpx

from bot.learning.models import ReviewLabel
from bot.ticketing import agents
from scripts.local_servers import running_console
from tests.integration.rasa_stub import RasaStub
from tests.learning_helpers import NEAR_DOMAIN, NEW_DURATION, UNCLEAR, scripted_database

DAY = {"from": "2026-11-20", "to": "2026-11-20"}


def test_agents_list_label_and_dismiss_groups(tmp_path):
    url, engine, factory = scripted_database(tmp_path)
    agents.add_agent(factory, "carol", "correct horse battery")
    with RasaStub() as stub, running_console(tmp_path, url, stub.url) as base:
        assert httpx.get(f"{base}/api/review/groups", params=DAY).status_code == 401
        assert httpx.post(f"{base}/api/review/groups/m1/dismiss", params=DAY).status_code == 401
        token = httpx.post(f"{base}/api/login", json={"name": "carol", "password": "correct horse battery"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}

        def listed(**query) -> list[dict]:
            got = httpx.get(f"{base}/api/review/groups", params={**DAY, **query}, headers=auth)
            assert got.status_code == 200, got.text
            return got.json()["groups"]

        labels = httpx.get(f"{base}/api/review/labels", headers=auth).json()["labels"]
        names = {entry["label"] for entry in labels}
        assert {"first_filing", "out_of_scope", "faq/duration"} <= names and not {"faq", "nlu_fallback"} & names
        assert next(e["title"] for e in labels if e["label"] == "faq/duration") == "备案一般要多久？"

        groups = listed()
        top = groups[0]
        assert top["count"] == 3 and top["text"] == UNCLEAR
        label = f"{base}/api/review/groups/{top['id']}/label"
        for body, status, reason in [
            ({"label": "make_coffee"}, 400, "unknown intent"), ({"label": "faq/no_such_answer"}, 400, "unknown FAQ answer"),
            ({"label": "faq"}, 400, "faq/<key>"), ({}, 400, "'label'"), ({"label": "nlu_fallback"}, 400, "unknown intent"),
        ]:
            refused = httpx.post(label, params=DAY, json=body, headers=auth)
            assert (refused.status_code, reason in refused.json()["error"]) == (status, True), refused.text
        unknown = httpx.post(f"{base}/api/review/groups/m999999/label", params=DAY, json={"label": "greet"}, headers=auth)
        assert unknown.status_code == 404 and "unknown group" in unknown.json()["error"]
        bad_period = httpx.get(f"{base}/api/review/groups", params={"from": "2026-11-31"}, headers=auth)
        assert bad_period.status_code == 400 and "'from'" in bad_period.json()["error"]
        assert httpx.get(f"{base}/api/review/groups", params={"status": "done"}, headers=auth).status_code == 400
        assert listed() == groups  # nothing changed by a refusal

        done = httpx.post(label, params=DAY, json={"label": "troubleshoot_cloudrun"}, headers=auth)
        assert done.status_code == 200 and done.json()["decided"] == 3, done.text
        near = next(g for g in listed() if g["text"] == NEAR_DOMAIN)
        assert httpx.post(f"{base}/api/review/groups/{near['id']}/dismiss", params=DAY, headers=auth).status_code == 200
        one = next(m for g in listed() for m in g["messages"] if m["text"] == NEW_DURATION)
        single = httpx.post(f"{base}/api/review/messages/{one['id']}/label", json={"label": "faq/duration"}, headers=auth)
        assert single.status_code == 200, single.text
        missing = httpx.post(f"{base}/api/review/messages/999999/label", json={"label": "greet"}, headers=auth)
        assert missing.status_code == 404 and "unknown message" in missing.json()["error"]

        assert {g["text"] for g in listed()}.isdisjoint({UNCLEAR, NEAR_DOMAIN, NEW_DURATION})
        assert [g["text"] for g in listed(status="dismissed")] == [NEAR_DOMAIN]
        labelled = listed(status="labelled")
        assert sorted((g["count"], g["messages"][0]["label"]) for g in labelled) == [(1, "faq/duration"),
                                                                                    (3, "troubleshoot_cloudrun")]
        assert {m["agent"] for g in labelled for m in g["messages"]} == {"carol"}
    with factory() as session:
        rows = session.query(ReviewLabel).all()
        assert len(rows) == 5 and all(r.agent == "carol" and r.decided_at for r in rows)
        assert {r.status for r in rows} == {"labelled", "dismissed"}
    engine.dispose()
