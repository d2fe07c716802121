"""The importer hands the knowledge base's FAQ answers to Rasa as retrieval responses."""
from rasa.shared.importers.importer import TrainingDataImporter

from bot.content.knowledge import KnowledgeBase
from bot.nlu.knowledge_importer import KnowledgeImporter
from scripts.local_servers import ROOT


def test_every_faq_answer_becomes_a_response():
    knowledge = KnowledgeBase.load(ROOT / "data" / "knowledge")
    responses = KnowledgeImporter(knowledge_dir=str(ROOT / "data" / "knowledge")).get_nlu_data().responses
    assert set(responses) == {f"utter_faq/{key}" for key in knowledge.faq}
    assert responses["utter_faq/duration"][0]["text"] == knowledge.faq_answer("duration")


def test_the_project_config_gives_rasa_a_domain_with_the_faq_responses():
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")]
    )
    domain = importer.get_domain()
    assert "utter_faq/sms_verification" in domain.responses
    assert "faq" in domain.retrieval_intents
