"""Counting turns inside the Rasa server: wrappers on the three Rasa methods every turn passes.

- Agent.handle_message: every channel's user message (rest, webchat, wechat, wecom) -> messages,
  the turn's duration (the conversation lock's wait included: what the user waits), a raised turn.
- MessageProcessor._run_action: the fallback action ran (NLU unsure, or the policies) -> fallbacks.
- RemoteAction.run: a custom action that could not run (the action server down or failing; Rasa
  logs it and goes on without the action's events) -> errors, stage "action".

bot/server.py checks that the names exist (`missing_targets`) before installing them.
"""
from __future__ import annotations

import functools
import time

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.agent import Agent
from rasa.core.processor import MessageProcessor

from bot.metrics import channel_label
from bot.metrics.conversation import ERRORS, FALLBACKS, MESSAGES, TURN_SECONDS

FALLBACK_ACTIONS = frozenset({"action_fallback", "action_default_fallback"})
TARGETS = ((Agent, "handle_message"), (MessageProcessor, "_run_action"), (RemoteAction, "run"))


def missing_targets() -> list[str]:
    return [f"{owner.__name__}.{name}" for owner, name in TARGETS if not hasattr(owner, name)]


def _wrap(owner: type, name: str, make):
    original = getattr(owner, name)
    if getattr(original, "counts_metrics", False):
        return
    wrapper = functools.wraps(original)(make(original))
    wrapper.counts_metrics = True
    setattr(owner, name, wrapper)


def _counting_turns(handle_message):
    async def handle_message_counted(self, message, *args, **kwargs):
        channel = channel_label(message.input_channel)
        MESSAGES.labels(channel).inc()
        started = time.perf_counter()
        try:
            return await handle_message(self, message, *args, **kwargs)
        except BaseException:
            ERRORS.labels(channel, "turn").inc()
            raise
        finally:
            TURN_SECONDS.labels(channel).observe(time.perf_counter() - started)

    return handle_message_counted


def _counting_fallbacks(run_action):
    async def run_action_counted(self, action, tracker, *args, **kwargs):
        if action.name() in FALLBACK_ACTIONS:
            FALLBACKS.labels(channel_label(tracker.get_latest_input_channel())).inc()
        return await run_action(self, action, tracker, *args, **kwargs)

    return run_action_counted


def _counting_action_errors(run):
    async def run_counted(self, output_channel, nlg, tracker, domain, *args, **kwargs):
        try:
            return await run(self, output_channel, nlg, tracker, domain, *args, **kwargs)
        except ActionExecutionRejection:  # a form's refusal: part of the conversation, not a failure
            raise
        except Exception:
            ERRORS.labels(channel_label(tracker.get_latest_input_channel()), "action").inc()
            raise

    return run_counted


def install() -> None:
    """Wrap the three methods (idempotent)."""
    _wrap(Agent, "handle_message", _counting_turns)
    _wrap(MessageProcessor, "_run_action", _counting_fallbacks)
    _wrap(RemoteAction, "run", _counting_action_errors)
