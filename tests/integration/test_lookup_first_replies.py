"""First replies a user accepts: help before asking for an id, every id answered, a stated rejection explained.

Real rasa_sdk Trackers against a seeded SQLite filing core; assertions name knowledge keys.
"""
from __future__ import annotations

import pytest

from actions.common import binding_needed, knowledge, now, unit_of_work
from actions.environment import (
    ActionAnswerEnvironment,
    ActionAskCloudbaseEnv,
    ActionFilingQuota,
    ActionTroubleshootCloudrun,
    diagnosis_text,
    quota_text,
)
from actions.fallback import ActionFallback
from actions.guide import ActionFilingProcess
from actions.orders import ActionAnswerOrder, ActionAskOrderId, ActionFilingOrderStatus
from bot.filing import services
from bot.filing.ids import distinct_ids
from bot.filing.rejections import mentions_rejection, stated_rejection
from scripts.local_servers import seeded_sqlite
from tests.action_harness import BOUND_SENDER, entity, run, tracker

STRANGER = "rest:someone-unbound"


@pytest.fixture(autouse=True)
def seeded_core(tmp_path, monkeypatch):
    monkeypatch.setenv("FILING_DB_URL", seeded_sqlite(tmp_path / "filing.db", bound=[BOUND_SENDER]))


def slot(name: str, value) -> dict:
    return {"event": "slot", "name": name, "value": value, "timestamp": None}


def envs(*ids: str) -> list[dict]:
    return [entity("cloudbase_env", i) for i in ids]


def orders(*ids: str) -> list[dict]:
    return [entity("order_id", i) for i in ids]


def after(reply_texts: list[str], text: str) -> list[dict]:
    """The events of a turn in which the bot already said `reply_texts`."""
    return [{"event": "user", "text": text}, *({"event": "bot", "text": t} for t in reply_texts)]


# 1. Troubleshooting without an environment id.

def test_troubleshooting_without_an_id_gives_the_seeds_checks_at_once_and_offers_to_look():
    text = "备案小程序里选不了云托管"
    texts, events, _ = run(ActionTroubleshootCloudrun(), tracker("troubleshoot_cloudrun", text=text))
    kb = knowledge()
    assert texts == [kb.message("troubleshoot_checks")]
    assert {"event": "active_loop", "name": "environment_form", "timestamp": None} in events
    asked, _, _ = run(ActionAskCloudbaseEnv(), tracker("troubleshoot_cloudrun", text=text, events=after(texts, text)))
    assert asked == []  # the checks already invited the id: not asked twice in one turn


def test_the_checks_cover_the_seeds_four_points_with_its_links():
    kb = knowledge()
    checks = kb.message("troubleshoot_checks")
    for point in ("资源包", "tcb-beian-auto", "可备案", "10分钟", "IP", "env-"):
        assert point in checks
    assert kb.links["cloudbase_beian"].url in checks and kb.links["tcb_console"].url in checks


def test_the_environment_sent_after_the_checks_is_diagnosed():
    texts, _, _ = run(
        ActionAnswerEnvironment(),
        tracker("inform", entities=envs("env-demo-blocked"),
                slots={"cloudbase_env": "env-demo-blocked", "pending_query": "troubleshoot_cloudrun"}),
    )
    diagnosis = services.diagnose_environment(unit_of_work(), "env-demo-blocked", "acct-demo", now())
    assert texts[0].startswith(diagnosis_text(knowledge(), diagnosis))


# 2. Several ids of one kind in one message.

def test_two_environments_in_one_message_are_both_answered_in_one_reply():
    track = tracker("filing_quota", text="我有两个环境 env-demo-ok 和 env-demo-full，一共还能备几个",
                    entities=envs("env-demo-ok", "env-demo-full"))
    texts, events, messages = run(ActionFilingQuota(), track)
    kb = knowledge()
    assert len(texts) == 1
    reply = texts[0]
    assert reply.index("env-demo-ok") < reply.index("env-demo-full")
    assert quota_text(kb, services.check_quota(unit_of_work(), "env-demo-ok", "acct-demo")) in reply
    # Only the full one opens a walk (its ways forward); the walk follows it and the reply says so.
    assert kb.walk("several_ids_walk_follows", id="env-demo-full") in reply
    assert slot("cloudbase_env", "env-demo-full") in events and slot("walk_step", "quota_options") in events
    assert [b["title"] for b in messages[0]["buttons"]] == kb.walk_buttons("quota_option_buttons")


def test_two_environments_are_both_troubleshot_and_the_walk_follows_the_one_with_a_question():
    track = tracker("troubleshoot_cloudrun", entities=envs("env-demo-nopack", "env-demo-ok"))
    texts, events, _ = run(ActionTroubleshootCloudrun(), track)
    kb = knowledge()
    reply = texts[0]
    for env_id in ("env-demo-nopack", "env-demo-ok"):
        diagnosis = services.diagnose_environment(unit_of_work(), env_id, "acct-demo", now())
        assert diagnosis_text(kb, diagnosis) in reply
    assert len(texts) == 1
    # env-demo-nopack's answer is complete (buy the pack); env-demo-ok's asks "现在能选到了吗".
    assert kb.walk("several_ids_walk_follows", id="env-demo-ok") in reply
    assert slot("cloudbase_env", "env-demo-ok") in events and slot("walk_step", "cloudrun_retry") in events


def test_a_repeated_id_is_answered_once():
    texts, events, _ = run(ActionFilingQuota(), tracker("filing_quota", entities=envs("env-demo-ok", "ENV-DEMO-OK")))
    assert texts[0].count("env-demo-ok") == 1
    assert "several_ids" not in texts[0]


def test_an_id_outside_the_account_reads_not_found_beside_the_own_one():
    texts, _, _ = run(ActionFilingQuota(), tracker("filing_quota", entities=envs("env-ghost-0000", "env-demo-ok")))
    kb = knowledge()
    assert kb.message("environment_not_found", env_id="env-ghost-0000") in texts[0]
    assert "env-demo-ok" in texts[0] and len(texts) == 1


def test_an_unbound_sender_naming_two_environments_gets_one_general_answer_and_how_to_bind():
    track = tracker("filing_quota", entities=envs("env-demo-ok", "env-demo-full"), sender_id=STRANGER)
    texts, events, _ = run(ActionFilingQuota(), track)
    assert texts == [binding_needed("account_environment_needs_binding", "quota_rule", env_id="env-demo-ok、env-demo-full").text]


def test_two_rejected_orders_are_both_explained_and_the_walk_follows_the_first():
    texts, events, _ = run(ActionFilingOrderStatus(), tracker("filing_order_status", entities=orders("BA-DEMO-0006", "BA-DEMO-0002")))
    kb = knowledge()
    reply = texts[0]
    assert len(texts) == 1
    assert kb.rejections["verification_photo"].fix in reply and kb.rejections["website_name"].fix in reply
    assert kb.walk("several_ids_walk_follows", id="BA-DEMO-0006") in reply
    assert slot("order_id", "BA-DEMO-0006") in events and slot("walk_step", "order_resubmit") in events


def test_an_order_under_review_and_a_rejected_one_leave_the_walk_on_the_rejected_one():
    texts, events, _ = run(ActionFilingOrderStatus(), tracker("filing_order_status", entities=orders("BA-DEMO-0001", "BA-DEMO-0007")))
    reply = texts[0]
    assert reply.index("BA-DEMO-0001") < reply.index("BA-DEMO-0007")
    assert knowledge().walk("several_ids_walk_follows", id="BA-DEMO-0007") in reply
    assert slot("order_id", "BA-DEMO-0007") in events


def test_an_unbound_sender_naming_two_orders_gets_no_details_of_either():
    texts, _, _ = run(
        ActionFilingOrderStatus(),
        tracker("filing_order_status", entities=orders("BA-DEMO-0002", "BA-DEMO-0006"), sender_id=STRANGER),
    )
    assert texts == [
        binding_needed("account_order_needs_binding", "account_order_general", order_id="BA-DEMO-0002、BA-DEMO-0006").text
    ]


def test_two_orders_sent_to_the_order_form_are_both_answered():
    track = tracker("inform", entities=orders("BA-DEMO-0005", "BA-DEMO-0001"), slots={"order_id": "BA-DEMO-0005"})
    texts, events, _ = run(ActionAnswerOrder(), track)
    assert "BA-DEMO-0005" in texts[0] and "BA-DEMO-0001" in texts[0] and len(texts) == 1


# 3. A rejection whose reason the user states.

@pytest.mark.parametrize(
    "text, code",
    [
        ("備案被駁回了，說網站名稱不符合要求", "website_name"),
        ("备案被驳回了，说网站名称不符合要求", "website_name"),
        ("審核沒通過，說幕布照片背景不對", "verification_photo"),
        ("被退回了 说电话回访没接通", "phone_unreachable"),
        ("驳回原因是域名实名和主体不一致", "domain_holder"),
    ],
)
def test_a_stated_rejection_reason_is_explained_with_what_to_change(text, code):
    kb = knowledge()
    texts, events, _ = run(ActionFilingOrderStatus(), tracker("filing_order_status", text=text))
    rejection = kb.rejections[code]
    assert texts == [kb.walk("rejection_stated", explain=rejection.explain, fix=rejection.fix)]
    # The lookup is offered, not demanded: the form waits, its question stays silent this turn.
    assert {"event": "active_loop", "name": "order_form", "timestamp": None} in events
    asked, _, _ = run(ActionAskOrderId(), tracker("filing_order_status", text=text, events=after(texts, text)))
    assert asked == []


def test_a_general_question_about_rejections_lists_the_common_reasons():
    kb = knowledge()
    texts, _, _ = run(ActionFilingOrderStatus(), tracker("filing_order_status", text="备案被驳回一般是什么原因"))
    assert len(texts) == 1
    assert texts[0].startswith(kb.walk("rejection_common", reasons="X").split("\n")[0])
    for rejection in kb.rejections.values():
        assert rejection.explain in texts[0]


def test_a_rejection_question_read_as_filing_process_lists_the_reasons_instead_of_starting_the_guide():
    kb = knowledge()
    texts, events, _ = run(ActionFilingProcess(), tracker("filing_process", text="备案被驳回一般是什么原因"))
    assert len(texts) == 1 and all(r.explain in texts[0] for r in kb.rejections.values())
    assert not any(e.get("event") == "active_loop" for e in events)


def test_a_rejection_question_the_nlu_is_unsure_of_lists_the_reasons_instead_of_starting_the_guide():
    kb = knowledge()
    texts, events, _ = run(ActionFallback(), tracker("nlu_fallback", text="备案被驳回一般是什么原因"))
    assert len(texts) == 1 and all(r.explain in texts[0] for r in kb.rejections.values())
    assert not any(e.get("event") == "active_loop" for e in events)


def test_an_order_question_without_a_rejection_still_asks_for_the_order():
    texts, events, _ = run(ActionFilingOrderStatus(), tracker("filing_order_status", text="我的备案到哪一步了"))
    assert texts == []
    assert {"event": "active_loop", "name": "order_form", "timestamp": None} in events


def test_the_core_reads_rejections_as_the_nlu_normalises():
    assert stated_rejection("備案被駁回了，說網站名稱不符合要求") == "website_name"
    assert stated_rejection("备案被驳回一般是什么原因") is None
    assert stated_rejection("网站名称可以随便起吗") is None  # a reason word without a rejection
    assert mentions_rejection("審核被駁回") and not mentions_rejection("备案要多久")


def test_distinct_ids_keep_the_users_order_once_each():
    assert distinct_ids(["BA-1", "ba-2", "BA-1", None, " "], str.upper) == ["BA-1", "BA-2"]
