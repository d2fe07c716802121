"""First replies through the real Rasa server: help before an id, every id, a stated rejection.

`chat` is bound to the demo account, `stranger_chat` to none; replies are compared with the
knowledge base's texts, not copied Chinese.
"""
from __future__ import annotations

from actions.common import binding_needed, knowledge


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text") or "" for m in messages]


def test_troubleshooting_without_an_id_first_gives_the_checks_once(chat):
    replies = texts(chat("first-checks", "备案小程序里选不了云托管"))
    kb = knowledge()
    assert replies == [kb.message("troubleshoot_checks")]  # the checks, and no second ask for the id
    follow = texts(chat("first-checks", "env-demo-nopack"))
    assert any("env-demo-nopack" in t and kb.links["cloudbase_beian"].url in t for t in follow)


def test_two_environments_in_one_message_are_answered_in_one_reply(chat):
    replies = texts(chat("first-two-envs", "我有两个环境 env-demo-ok 和 env-demo-full，一共还能备几个"))
    assert len(replies) == 1
    assert "env-demo-ok" in replies[0] and "env-demo-full" in replies[0]
    assert knowledge().walk("several_ids_walk_follows", id="env-demo-full") in replies[0]


def test_two_environments_of_an_unbound_sender_get_one_general_answer(stranger_chat):
    replies = texts(stranger_chat("first-two-envs-stranger", "我有两个环境 env-demo-ok 和 env-demo-full，一共还能备几个"))
    general = binding_needed("account_environment_needs_binding", "quota_rule", env_id="env-demo-ok、env-demo-full")
    assert replies == [general.text]


def test_two_orders_in_one_message_are_both_reported(chat):
    replies = texts(chat("first-two-orders", "帮我查下 BA-DEMO-0001 和 BA-DEMO-0002 的进度"))
    assert len(replies) == 1
    assert "BA-DEMO-0001" in replies[0] and knowledge().rejections["website_name"].fix in replies[0]


def test_a_rejection_stated_in_traditional_characters_is_explained_first(stranger_chat):
    replies = texts(stranger_chat("first-rejection", "備案被駁回了，說網站名稱不符合要求"))
    kb = knowledge()
    rejection = kb.rejections["website_name"]
    assert replies == [kb.walk("rejection_stated", explain=rejection.explain, fix=rejection.fix)]


def test_a_general_question_about_rejections_lists_the_common_reasons(chat):
    replies = texts(chat("first-rejection-general", "备案被驳回一般是什么原因"))
    kb = knowledge()
    assert len(replies) == 1
    assert all(r.explain in replies[0] for r in kb.rejections.values()), replies
