"""The same servers with the filing core and Rasa's tracker store on PostgreSQL, by URL only."""
from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.filing.seed import main as seed_main
from scripts.local_servers import bind_to_demo_account, rest_tracker_id, running_servers


@pytest.fixture(scope="module")
def postgres_server(trained_model, postgres_url, tmp_path_factory):
    seed_main(["--url", postgres_url])
    env = {"FILING_DB_URL": postgres_url, "TRACKER_STORE_URL": postgres_url}
    with running_servers(trained_model, tmp_path_factory.mktemp("pg-servers"), extra_env=env) as servers:
        yield servers.base_url


def say(base: str, sender: str, text: str) -> str:
    response = httpx.post(f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200
    return "\n".join(m.get("text", "") for m in response.json())


def test_core_answers_come_from_postgres(postgres_server, postgres_url):
    bind_to_demo_account(postgres_url, rest_tracker_id("pg-1"), rest_tracker_id("pg-2"))
    assert "用完" in say(postgres_server, "pg-1", "env-demo-full 还能备案吗")
    assert "网站名称不符合要求" in say(postgres_server, "pg-2", "BA-DEMO-0002 进度")


def test_the_follow_up_survives_in_the_postgres_tracker_store(postgres_server, postgres_url):
    sender = f"pg-{uuid.uuid4().hex[:6]}"
    bind_to_demo_account(postgres_url, rest_tracker_id(sender))
    say(postgres_server, sender, "备案时选不了云托管")
    assert "云托管资源包已过期" in say(postgres_server, sender, "env-demo-blocked")
    engine = create_engine(postgres_url, future=True)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": f"rest:{sender}"}).scalar()
    engine.dispose()
    assert stored > 0
