"""Rasa graph component that adds the rule-based filing entities to each message."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.entity_rules import FilingEntityFinder


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class FilingEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Extracts ICP numbers, ids, domains, provinces and providers by rules."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """No options: the rules are fixed."""
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FilingEntityExtractor:
        """Create the component; the spaCy pipeline is shared per process."""
        return cls(config)

    def __init__(self, config: dict[str, Any], finder: FilingEntityFinder | None = None) -> None:
        """Keep the config and the (lazily shared) entity finder."""
        self._config = {**self.get_default_config(), **config}
        self._finder = finder or FilingEntityFinder()

    def process(self, messages: list[Message]) -> list[Message]:
        """Append this extractor's entities to each message's entities."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            extracted = self.add_extractor_name(self._finder.extract(text))
            message.set(ENTITIES, message.get(ENTITIES, []) + extracted, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through: entities in the examples are annotated by hand."""
        return training_data
