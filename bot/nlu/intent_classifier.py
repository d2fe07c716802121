"""Rasa graph component around bot.nlu.intent_model: the intent, its ranking and the FAQ answer.

It replaces DIET and the ResponseSelector: one logistic regression over char n-grams (and,
for messages the n-grams leave unsure, multilingual-e5-small embeddings) scores every intent
and every FAQ answer. Its output has Rasa's shapes (`intent`, `intent_ranking` and
`response_selector.faq`), so the FallbackClassifier, the gates and action_answer_faq read it
as before.
"""
from __future__ import annotations

import logging
from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import sentence_embedder
from bot.nlu.intent_model import IntentModel, intent_of

logger = logging.getLogger(__name__)
MODEL_FILE = "intent_model.joblib"
RANKING_LENGTH = 10


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class CascadeIntentClassifier(GraphComponent, IntentClassifier):
    """Char n-gram logistic regression, with e5 embeddings added when it is unsure."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "min_ngram": 1,
            "max_ngram": 4,
            "lexical_c": 30.0,
            "combined_c": 100.0,
            "embedding_weight": 3.0,
            # Below this top probability of the n-gram model the message is embedded.
            "cascade_threshold": 0.5,
            # Also below it for the top label (a single FAQ answer): see IntentModel._sure.
            "cascade_on_label": False,
            "retrieval_intent": "faq",
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: IntentModel | None = None,
        responses: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._responses = responses or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CascadeIntentClassifier":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT)]
        texts = [e.get(TEXT) for e in examples]
        labels = [e.get(INTENT_RESPONSE_KEY) or e.get(INTENT) for e in examples]
        self._model = IntentModel.train(texts, labels, sentence_embedder.embed, self.component_config)
        retrieval = self.component_config["retrieval_intent"]
        self._responses = {
            key: value for key, value in training_data.responses.items() if key.startswith(f"utter_{retrieval}/")
        }
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump({"model": self._model, "responses": self._responses}, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "CascadeIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                stored = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("CascadeIntentClassifier: no trained model found; every message gets no intent")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, stored["model"], stored["responses"])

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        readable = [m for m in messages if (m.get(TEXT) or "").strip()]
        readable_ids = {id(m) for m in readable}
        for message in messages:
            if id(message) not in readable_ids:  # blank: no intent (as DIET gives); the fallback and the input gate explain it
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        if not readable:
            return messages
        predictions = self._model.predict([m.get(TEXT) for m in readable], sentence_embedder.embed)
        for message, prediction in zip(readable, predictions):
            ranking = [
                {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
                for name, confidence in prediction.intents()[:RANKING_LENGTH]
            ]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            self._select_answer(message, prediction)
        return messages

    def _select_answer(self, message: Message, prediction) -> None:
        retrieval = self.component_config["retrieval_intent"]
        answers = prediction.answers(retrieval)
        if not answers:
            return
        key, confidence = answers[0]
        utter_action = f"utter_{key}"
        selection = {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                RESPONSE_SELECTOR_RESPONSES_KEY: self._responses.get(utter_action, [{TEXT: key}]),
                PREDICTED_CONFIDENCE_KEY: confidence,
                INTENT_RESPONSE_KEY: key,
                RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter_action,
            },
            RESPONSE_SELECTOR_RANKING_KEY: [
                {PREDICTED_CONFIDENCE_KEY: p, INTENT_RESPONSE_KEY: k} for k, p in answers[:RANKING_LENGTH]
            ],
        }
        message.set(
            RESPONSE_SELECTOR_PROPERTY_NAME,
            {RESPONSE_SELECTOR_RETRIEVAL_INTENTS: [intent_of(key)], retrieval: selection},
            add_to_output=True,
        )
