"""Training-data importer that serves the knowledge base's FAQ answers to Rasa.

The ResponseSelector needs a response per `faq/<key>`; reading them from
data/knowledge/faq.yml keeps the knowledge base the single source of answers.
"""
from __future__ import annotations

from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.content.knowledge import KnowledgeBase
from bot.settings import settings as current_settings

RETRIEVAL_INTENT = "faq"


class KnowledgeImporter(TrainingDataImporter):
    """Provides `utter_faq/<key>` responses rendered from the knowledge base (the selector's labels)."""

    def __init__(
        self,
        config_file: str | None = None,
        domain_path: str | None = None,
        training_data_paths: list[str] | None = None,
        knowledge_dir: str | None = None,
    ) -> None:
        self._knowledge_dir = knowledge_dir or str(current_settings().knowledge_dir)

    def _responses(self) -> dict[str, list[dict[str, Any]]]:
        knowledge = KnowledgeBase.load(self._knowledge_dir)
        return {
            f"utter_{RETRIEVAL_INTENT}/{key}": [{"text": knowledge.faq_answer(key)}]
            for key in sorted(knowledge.faq)
        }

    def get_domain(self) -> Domain:
        """Nothing: Rasa copies the NLU data's responses into the domain itself."""
        return Domain.empty()

    def get_stories(self, exclusion_percentage: int | None = None) -> StoryGraph:
        """No stories come from the knowledge base."""
        return StoryGraph([])

    def get_conversation_tests(self) -> StoryGraph:
        """No test stories come from the knowledge base."""
        return StoryGraph([])

    def get_config(self) -> dict:
        """The knowledge base adds no configuration."""
        return {}

    def get_config_file_for_auto_config(self) -> str | None:
        """No configuration file to auto-fill."""
        return None

    def get_nlu_data(self, language: str | None = "en") -> TrainingData:
        """Training data holding only the FAQ responses."""
        return TrainingData(responses=self._responses())
