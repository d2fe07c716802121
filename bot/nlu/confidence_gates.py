"""Graph components that turn unreliable predictions into `nlu_fallback`.

Rasa's FallbackClassifier only looks at the intent. A confident `faq` intent with
an unsure FAQ sub-answer would still answer wrongly, and empty or symbol-only
messages get an arbitrary intent; these gates route both to the fallback.
"""
from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.input_quality import input_issue

RETRIEVAL_INTENT = "faq"


def _route_to_fallback(message: Message, confidence: float) -> None:
    fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: confidence}
    message.set(INTENT, fallback, add_to_output=True)
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != fallback[INTENT_NAME_KEY]]
    message.set(INTENT_RANKING_KEY, [dict(fallback), *ranking], add_to_output=True)


class _Gate(GraphComponent, IntentClassifier):
    """Shared plumbing of the gates: no training, config passed through."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = {**self.get_default_config(), **config}

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "_Gate":
        return cls(config)

    @staticmethod
    def _intent_name(message: Message) -> str | None:
        return (message.get(INTENT) or {}).get(INTENT_NAME_KEY)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FaqConfidenceGate(_Gate):
    """Falls back when the FAQ answer itself is unsure, even if `faq` is.

    With some sixty answers a long message spreads its probability: the right answer can hold
    0.3 while the next holds 0.1. An answer below `threshold` still stands when it is at least
    `floor` and `ratio` times the runner-up (a clear first), which answers those long messages
    instead of asking "您可能想问".
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"threshold": 0.6, "floor": 1.0, "ratio": 2.0}

    def _stands(self, selection: dict[str, Any]) -> tuple[bool, float]:
        confidence = float((selection.get("response") or {}).get(PREDICTED_CONFIDENCE_KEY, 0.0))
        if confidence >= self.component_config["threshold"]:
            return True, confidence
        ranking = [float(r.get(PREDICTED_CONFIDENCE_KEY, 0.0)) for r in selection.get("ranking") or []]
        runner_up = ranking[1] if len(ranking) > 1 else 0.0
        clear_first = confidence >= self.component_config["floor"] and confidence >= self.component_config["ratio"] * runner_up
        return clear_first, confidence

    def process(self, messages: list[Message]) -> list[Message]:
        """Route low-confidence FAQ selections to `nlu_fallback`."""
        for message in messages:
            if self._intent_name(message) != RETRIEVAL_INTENT:
                continue
            stands, confidence = self._stands((message.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {})
            if not stands:
                _route_to_fallback(message, confidence)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class InputQualityGate(_Gate):
    """Sends empty, symbol-only and oversized messages to the fallback, which explains why."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def process(self, messages: list[Message]) -> list[Message]:
        """Route unreadable messages to `nlu_fallback` whatever was predicted."""
        for message in messages:
            if input_issue(message.get(TEXT)) is not None:
                _route_to_fallback(message, 1.0)
        return messages
