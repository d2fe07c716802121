"""The gates on real Rasa messages, as the NLU pipeline hands them over."""
import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.confidence_gates import FaqConfidenceGate, InputQualityGate


def message(
    text: str, intent: str, confidence: float, faq_confidence: float | None = None, runner_up: float | None = None
) -> Message:
    data = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.01}],
    }
    if faq_confidence is not None:
        data["response_selector"] = {
            "faq": {"response": {"intent_response_key": "faq/duration", "confidence": faq_confidence}}
        }
        if runner_up is not None:
            data["response_selector"]["faq"]["ranking"] = [
                {"intent_response_key": "faq/duration", "confidence": faq_confidence},
                {"intent_response_key": "faq/serve_after_approval", "confidence": runner_up},
            ]
    return Message(data=data)


def test_unsure_faq_answer_falls_back_and_keeps_the_ranking():
    [gated] = FaqConfidenceGate({"threshold": 0.6}).process([message("备案多久", "faq", 0.95, faq_confidence=0.3)])
    assert gated.get("intent")["name"] == "nlu_fallback"
    assert [r["name"] for r in gated.get("intent_ranking")][:2] == ["nlu_fallback", "faq"]


def test_sure_faq_answer_passes():
    [gated] = FaqConfidenceGate({"threshold": 0.6}).process([message("备案多久", "faq", 0.95, faq_confidence=0.9)])
    assert gated.get("intent")["name"] == "faq"


def test_other_intents_are_not_touched_by_the_faq_gate():
    [gated] = FaqConfidenceGate({"threshold": 0.6}).process([message("你好", "greet", 0.4)])
    assert gated.get("intent")["name"] == "greet"


def test_emoji_only_message_falls_back_whatever_was_predicted():
    [gated] = InputQualityGate({}).process([message("😀😀", "greet", 0.99)])
    assert gated.get("intent")["name"] == "nlu_fallback"


def test_readable_message_passes_the_input_gate():
    [gated] = InputQualityGate({}).process([message("你好", "greet", 0.99)])
    assert gated.get("intent")["name"] == "greet"


LONG_MESSAGE_GATE = {"threshold": 0.4, "floor": 0.25, "ratio": 2.0}


def test_a_long_messages_faq_answer_below_the_threshold_stands_when_it_is_a_clear_first():
    text = "你们审核也太慢了吧，备案到底要多久才能下来"
    [gated] = FaqConfidenceGate(LONG_MESSAGE_GATE).process([message(text, "faq", 0.5, faq_confidence=0.31, runner_up=0.05)])
    assert gated.get("intent")["name"] == "faq"


@pytest.mark.parametrize(("answer", "runner_up"), [(0.3, 0.2), (0.2, 0.01)])
def test_an_faq_answer_below_the_threshold_falls_back_when_close_to_the_next_or_below_the_floor(answer, runner_up):
    [gated] = FaqConfidenceGate(LONG_MESSAGE_GATE).process([message("备案", "faq", 0.5, faq_confidence=answer, runner_up=runner_up)])
    assert gated.get("intent")["name"] == "nlu_fallback"
