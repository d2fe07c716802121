"""The speedups give exactly Rasa's results: the cached response check and the event type table."""
import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

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


def every_event_type_name() -> list[str]:
    return sorted({cls.type_name for cls in all_subclasses(Event)})


@pytest.mark.parametrize("type_name", every_event_type_name())
def test_every_event_type_resolves_to_the_class_rasa_picks(type_name):
    assert rasa_speedups.resolve_event_type(type_name) is rasa_speedups._ORIGINAL_RESOLVE_BY_TYPE(type_name)


def test_unknown_and_legacy_event_names_behave_as_in_rasa():
    assert rasa_speedups.resolve_event_type("topic") is None
    assert rasa_speedups.resolve_event_type("no-such-event", default=UserUttered) is UserUttered
    with pytest.raises(ValueError, match="Unknown event name"):
        rasa_speedups.resolve_event_type("no-such-event")


def test_a_tracker_round_trips_through_the_fast_lookup():
    rasa_speedups.apply()
    events = [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"event": "session_started", "timestamp": 1.1},
        {"event": "user", "text": "你好", "parse_data": {"intent": {"name": "greet", "confidence": 1.0}}, "timestamp": 2.0},
        {"event": "slot", "name": "cloudbase_env", "value": "env-demo-ok", "timestamp": 2.1},
        {"event": "bot", "text": "您好", "timestamp": 2.2},
        {"event": "pause", "timestamp": 3.0},
    ]
    tracker = DialogueStateTracker.from_dict("u", events, [])
    assert [e.as_dict()["event"] for e in tracker.events] == [e["event"] for e in events]
    assert Event.resolve_by_type("user") is UserUttered


@pytest.mark.asyncio
async def test_calls_to_an_endpoint_reuse_one_connection_and_get_the_same_answers():
    # Rasa opened a session (a TCP connection) per call to the action server; the kept session
    # sends every call over one kept connection and returns what Rasa's own would.
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    peers: list[tuple] = []

    async def echo(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"got": await request.json(), "auth": request.headers.get("Authorization")})

    app = web.Application()
    app.router.add_post("/webhook", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"Authorization": "Bearer s3cret"})
    original = rasa_speedups._ORIGINAL_SESSION
    try:
        rasa_speedups.apply()
        answers = [await endpoint.request(json={"n": n}) for n in range(5)]
        await asyncio.gather(*(endpoint.request(json={"n": n}) for n in range(3)))
        assert answers == [{"got": {"n": n}, "auth": "Bearer s3cret"} for n in range(5)]
        assert len(set(peers[:5])) == 1  # one after another: one connection
        from rasa.utils import endpoints

        endpoints.EndpointConfig.session = original  # Rasa's own: a connection per call
        await endpoint.request(json={"n": 9})
        assert peers[-1] != peers[0]
        # The server's stop closes the loop's kept session (no "Unclosed client session" at exit).
        rasa_speedups.apply()
        kept = [s for s in rasa_speedups._kept_sessions.values() if s._loop is asyncio.get_running_loop()]
        assert len(kept) == 1 and await rasa_speedups.close_kept_sessions() == 1
        assert kept[0].closed and await rasa_speedups.close_kept_sessions() == 0
    finally:
        rasa_speedups.apply()
        await rasa_speedups.close_kept_sessions()
        await runner.cleanup()


# -- the rule lookup's early stop ------------------------------------------------------------------

def trained_rule_keys(model) -> list[str]:
    """The rule keys of the trained model."""
    import json
    import tarfile

    with tarfile.open(model) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("train_RulePolicy1/rule_policy.json"))
        lookup = json.load(archive.extractfile(member))["lookup"]
    return sorted(lookup["rules"]) + sorted(lookup["rules_for_loop_unhappy_path"])


def bare_rule_policy():
    from rasa.core.policies.rule_policy import RulePolicy

    return RulePolicy.__new__(RulePolicy)  # the lookup's checks read no instance state


def test_the_early_stop_finds_exactly_rasas_keys_for_conversations_made_of_the_trained_rules(trained_model):
    import json
    import random

    keys = trained_rule_keys(trained_model)
    assert len(keys) > 400
    policy, rng = bare_rule_policy(), random.Random(7)
    lookup = {key: "action" for key in keys}
    longest = [key for key in keys if len(json.loads(key)) == max(len(json.loads(k)) for k in keys)]
    matched = 0
    for _ in range(150):  # histories of 1-40 states, taken from the rules' own states, ending in a longest rule
        states = [state for key in rng.sample(keys, rng.randint(1, 8)) for state in json.loads(key)][-rng.randint(1, 40):]
        states = [{} if rng.random() < 0.05 else state for state in states]  # a conversation start now and then
        newest = rng.choice(longest)
        states += json.loads(newest)
        expected = rasa_speedups._ORIGINAL_POSSIBLE_KEYS(policy, lookup, states)
        assert rasa_speedups.possible_rule_keys(policy, lookup, states) == expected
        matched += newest in expected
    assert matched > 100  # the newest rule matched all the way back: the stop was tested at its edge


def test_the_early_stop_finds_exactly_rasas_keys_for_any_states():
    import json

    from hypothesis import given, settings
    from hypothesis import strategies as st

    sub_state = st.dictionaries(st.sampled_from(["action_name", "intent", "active_loop", "slot_a"]),
                                st.sampled_from(["a", "b", "should_not_be_set", ("x", "y")]), max_size=2)
    state = st.dictionaries(st.sampled_from(["prev_action", "user", "active_loop", "slots"]), sub_state, max_size=3)
    policy = bare_rule_policy()

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.lists(state, min_size=1, max_size=5), max_size=12), st.lists(state, max_size=15))
    def same(rules, states):
        lookup = {json.dumps(rule): "action" for rule in rules}
        assert rasa_speedups.possible_rule_keys(policy, lookup, states) == rasa_speedups._ORIGINAL_POSSIBLE_KEYS(policy, lookup, states)

    same()
