"""bot/filing/message_traits.py: the script of a message and whether it complains."""
from __future__ import annotations

import pytest

from bot.filing.message_traits import complains, is_latin_script


@pytest.mark.parametrize(
    "text",
    ["how do I get ICP filing for my domain", "yun tuoguan zenme beian", "can't select cloudrun, env-demo-ok"],
)
def test_english_and_pinyin_messages_are_latin_script(text: str) -> None:
    assert is_latin_script(text)


@pytest.mark.parametrize(
    "text",
    ["云托管怎么备案", "icp备案要多久", "env-demo-ok", "BA-DEMO-0001 demo.cn", "https://demo.cn/a", "/cancel_subject", '/faq{"x": "y"}', "ok", "", None],
)
def test_chinese_messages_and_bare_ids_are_not_latin_script(text: str | None) -> None:
    assert not is_latin_script(text)


@pytest.mark.parametrize(
    "text",
    ["你们审核也太慢了 备案到底要多久", "什么破系统 选不了云托管", "真服了 又被驳回了", "我要投訴 備案拖了一個月"],
)
def test_complaints_are_recognised_in_simplified_and_traditional(text: str) -> None:
    assert complains(text)


@pytest.mark.parametrize("text", ["备案一般要多久", "慢慢来不着急，先问下备案流程", "服务器在香港要备案吗", None])
def test_plain_questions_are_not_complaints(text: str | None) -> None:
    assert not complains(text)
