"""The action server as `make run` starts it (python -m bot.action_server): loopback only, shared secret, size limit."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.action_server import REQUEST_MAX_SIZE
from bot.storage.engines import make_engine, session_factory
from bot.ticketing import opening, queries
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from scripts.local_servers import METRICS_TOKEN, ROOT, free_port, seeded_sqlite, wait_until_ready
from tests.metrics_helpers import key, moved, scrape
from tests.raw_http import status_of_declared_body

SECRET = "action-secret-Tz82"
VICTIM = "o_victim_openid_1"


@dataclass(frozen=True)
class ActionServer:
    url: str
    port: int
    factory: object
    ticket_id: str


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:
    """The real action server over a seeded core holding one ticket of a WeChat user."""
    with started_action_server(tmp_path_factory.mktemp("action-server")) as server:
        yield server


@contextmanager
def started_action_server(work: Path, extra_env: dict[str, str] | None = None) -> Iterator[ActionServer]:
    db_url = seeded_sqlite(work / "filing.db")
    factory = session_factory(make_engine(db_url))
    ticket = opening.open_ticket(TicketingUnitOfWork(
        factory), channel="wechat", sender_id=VICTIM, source_message_id="wx-victim-1",
        title="云托管选不了", category="备案问题", description="备案时选不了云托管",
    ).ticket
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("ACTION_SERVER_HOST", "SANIC_HOST")},
        "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "FILING_DB_URL": db_url,
        "ACTION_SERVER_TOKEN": SECRET, "WORKING_HOURS": "Mon-Sun 00:00-23:59", "METRICS_TOKEN": METRICS_TOKEN,
        **(extra_env or {}),
    }
    log = work / "actions.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.action_server", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/health", process, log, timeout=120)
        yield ActionServer(url, port, factory, ticket.id)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def action_call(action: str, sender: str, text: str, slots: dict | None = None) -> dict:
    """The body Rasa posts for `action`, as an attacker would forge it."""
    parse = {"text": text, "intent": {"name": "ticket_status", "confidence": 1.0}, "entities": []}
    return {
        "next_action": action, "sender_id": sender, "version": "3.6.21", "domain": {},
        "tracker": {
            "sender_id": sender, "slots": slots or {}, "latest_message": parse, "paused": False,
            "events": [{"event": "user", "text": text, "parse_data": parse, "input_channel": "wechat",
                        "metadata": {"message_id": "forged-1"}}],
            "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen",
        },
    }


def test_a_forged_ticket_status_call_without_the_secret_is_401_and_lists_nothing(action_server):
    call = action_call("action_ticket_status", VICTIM, "我的工单呢")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": SECRET}, {"X-Token": SECRET}):
        response = httpx.post(f"{action_server.url}/webhook", json=call, headers=headers, timeout=30)
        assert response.status_code == 401, response.text
        assert action_server.ticket_id not in response.text and "responses" not in response.text


def test_the_ticket_status_call_with_the_secret_works(action_server):
    response = httpx.post(f"{action_server.url}/webhook", json=action_call("action_ticket_status", VICTIM, "我的工单呢"),
                          headers={"Authorization": f"Bearer {SECRET}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert action_server.ticket_id in response.json()["responses"][0]["text"]


def test_a_forged_ticket_confirmation_without_the_secret_is_401_and_writes_nothing(action_server):
    before = queries.get_ticket(TicketingUnitOfWork(action_server.factory), action_server.ticket_id)
    count = len(queries.list_tickets(TicketingUnitOfWork(action_server.factory)))
    call = action_call("action_continue_walk", VICTIM, "需要", slots={"walk_step": "ticket_offer"})
    response = httpx.post(f"{action_server.url}/webhook", json=call, timeout=30)
    assert response.status_code == 401
    after = queries.get_ticket(TicketingUnitOfWork(action_server.factory), action_server.ticket_id)
    assert len(queries.list_tickets(TicketingUnitOfWork(action_server.factory))) == count
    assert [m.text for m in after.transcript] == [m.text for m in before.transcript]


def test_the_action_list_needs_the_secret_and_health_does_not(action_server):
    assert httpx.get(f"{action_server.url}/actions").status_code == 401
    assert httpx.get(f"{action_server.url}/health").json() == {"status": "ok"}


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        lines = Path(table).read_text().splitlines()[1:] if Path(table).exists() else []
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_action_server_is_not_reachable_on_a_non_loopback_address_by_default(action_server):
    # 0100007F is 127.0.0.1 (little-endian); 0.0.0.0 would be 00000000, :: all zeros.
    assert listening_addresses(action_server.port) == {"0100007F"}


def test_a_body_over_the_limit_is_413_from_its_content_length_unread(action_server):
    headers = {"Authorization": f"Bearer {SECRET}"}
    assert status_of_declared_body(action_server.url, "/webhook", REQUEST_MAX_SIZE + 1, headers) == 413
    assert status_of_declared_body(action_server.url, "/webhook", 50_000_000, headers) == 413
    assert status_of_declared_body(action_server.url, "/webhook", 50_000_000) == 401  # no secret: refused first


def test_without_a_secret_the_action_server_refuses_to_start():
    env = {k: v for k, v in os.environ.items() if k != "ACTION_SERVER_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "bot.action_server", "--port", str(free_port())],
                            cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "ACTION_SERVER_TOKEN is not set" in result.stderr


def test_a_real_action_call_is_checked_once_by_the_speedups_validator(action_server, monkeypatch):
    """Rasa's RemoteAction against the running action server: its response goes through the
    patched check exactly once (the test fails if Rasa stopped calling the patched function)."""
    import asyncio

    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from bot import rasa_speedups, server

    server.install_patches()
    checks = []
    built_once = rasa_speedups.response_validator

    def counted_validator():
        checks.append(1)
        return built_once()

    monkeypatch.setattr(rasa_speedups, "response_validator", counted_validator)
    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events(
        "rest:validator-count",
        [UserUttered("你好", intent={"name": "greet", "confidence": 1.0})],
        slots=domain.slots,
    )
    endpoint = EndpointConfig(f"{action_server.url}/webhook", headers={"Authorization": f"Bearer {SECRET}"})
    events = asyncio.run(
        RemoteAction("action_fallback", endpoint).run(
            CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain
        )
    )
    assert checks == [1]
    assert events  # the action answered (a bot message at least)


def ticket_status_call(url: str) -> int:
    response = httpx.post(f"{url}/webhook", json=action_call("action_ticket_status", VICTIM, "我的工单呢"),
                          headers={"Authorization": f"Bearer {SECRET}"}, timeout=30)
    return response.status_code


def test_the_metrics_count_exactly_the_action_calls_answered(action_server):
    url, auth = action_server.url, {"Authorization": f"Bearer {SECRET}"}
    before = scrape(url)
    assert [ticket_status_call(url) for _ in range(3)] == [200, 200, 200]
    unknown = httpx.post(f"{url}/webhook", json=action_call("action_no_such_thing_Xy", VICTIM, "hi"), headers=auth)
    assert unknown.status_code == 404
    assert httpx.post(f"{url}/webhook", json=action_call("action_ticket_status", VICTIM, "x")).status_code == 401
    after = scrape(url)
    assert moved(before, after) == {  # the refused call (no secret) is no action call
        key("assistant_action_calls_total", action="action_ticket_status", outcome="ok"): 3,
        key("assistant_action_calls_total", action="unknown", outcome="error"): 1,
    }
    assert "action_no_such_thing_Xy" not in httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text


def test_the_metrics_need_the_metrics_token_not_the_action_token(action_server):
    for headers in ({}, {"Authorization": f"Bearer {SECRET}"}, {"Authorization": "Bearer wrong"}):
        assert httpx.get(f"{action_server.url}/metrics", headers=headers, timeout=30).status_code == 401


def test_without_a_metrics_token_the_metrics_are_not_served(tmp_path):
    with started_action_server(tmp_path, {"METRICS_TOKEN": ""}) as server:
        response = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer x"}, timeout=30)
        assert response.status_code == 404 and "METRICS_TOKEN is not set" in response.text
        assert ticket_status_call(server.url) == 200  # the actions themselves still run


def test_with_two_workers_every_scrape_counts_the_calls_of_both(tmp_path):
    # Sanic forks the workers; a scrape reaches one of them: multiprocess mode adds up all of them.
    with started_action_server(tmp_path, {"ACTION_SERVER_SANIC_WORKERS": "2", "BOT_VAR_DIR": str(tmp_path)}) as server:
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(lambda _: ticket_status_call(server.url), range(24))) == {200}
        counted = [scrape(server.url).get(key("assistant_action_calls_total", action="action_ticket_status", outcome="ok"))
                   for _ in range(8)]
        assert counted == [24.0] * 8
        workers = {p.stem.rpartition("_")[2] for p in (tmp_path / "metrics").glob("*/counter_*.db")}
        print(f"counter files of {len(workers)} processes")
    assert not list((tmp_path / "metrics").glob("*")), "the multiprocess directory is removed at exit"
