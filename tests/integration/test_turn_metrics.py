"""The Rasa server's turn counting (bot/metrics/rasa_hooks.py) on Rasa's own classes, in process.

The end-to-end counts (messages, turns, fallbacks) are in tests/e2e/test_metrics.py; here the
failures that a healthy test server never shows: a turn that raises, an action server down.
"""
from __future__ import annotations

import asyncio

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels import CollectingOutputChannel, UserMessage
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.metrics import rasa_hooks
from scripts.local_servers import ROOT, free_port
from tests.metrics_helpers import in_process, key, moved, turns


class FailingProcessor:
    async def handle_message(self, message):
        raise RuntimeError("the tracker store went away")


def test_the_hooks_wrap_what_this_rasa_has():
    assert rasa_hooks.missing_targets() == []
    rasa_hooks.install()
    rasa_hooks.install()  # idempotent: one count per turn
    assert getattr(Agent.handle_message, "counts_metrics", False)
    assert not getattr(Agent.handle_message.__wrapped__, "counts_metrics", False)


def test_a_turn_that_raises_is_a_turn_and_an_error_of_its_channel():
    rasa_hooks.install()
    agent = Agent()
    agent.processor = FailingProcessor()
    before = in_process()
    with pytest.raises(RuntimeError):
        asyncio.run(agent.handle_message(UserMessage("你好", CollectingOutputChannel(), "wecom:u1", input_channel="wecom")))
    assert moved(before, in_process()) == {
        **turns("wecom", 1), key("assistant_errors_total", channel="wecom", stage="turn"): 1}


def test_an_action_server_that_cannot_be_reached_is_an_action_error_of_the_channel():
    rasa_hooks.install()
    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events(
        "webchat:s1", [UserUttered("你好", intent={"name": "greet", "confidence": 1.0}, input_channel="webchat")],
        slots=domain.slots)
    action = RemoteAction("action_fallback", EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook"))
    before = in_process()
    with pytest.raises(Exception):
        asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain))
    assert moved(before, in_process()) == {key("assistant_errors_total", channel="webchat", stage="action"): 1}
