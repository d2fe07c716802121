"""The cached response check accepts and rejects exactly what Rasa's own check does."""
import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "cloudbase_env", "value": "env-demo-ok"}], "responses": [{"text": "好的"}]},
    {"events": [{"event": "active_loop", "name": "environment_form"}], "responses": []},
]
INVALID = [
    {"events": [{"event": "not-an-event"}], "responses": []},
    {"events": "nope", "responses": []},
    {"events": [{"event": "slot"}], "responses": []},
]


@pytest.mark.parametrize("response", VALID)
def test_valid_responses_pass_both_checks(response):
    jsonschema.validate(response, RemoteAction.action_response_format_spec())
    assert rasa_speedups.validate_action_result(None, response) is True


@pytest.mark.parametrize("response", INVALID)
def test_invalid_responses_fail_both_checks_with_the_same_error(response):
    with pytest.raises(jsonschema.ValidationError) as expected:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as actual:
        rasa_speedups.validate_action_result(None, response)
    assert actual.value.message.startswith(expected.value.message)


def test_apply_replaces_rasas_check():
    rasa_speedups.apply()
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
