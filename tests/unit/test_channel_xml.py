"""Hardened callback XML parsing and CDATA-safe passive replies."""
from __future__ import annotations

import defusedxml.ElementTree as safe_xml
import pytest

from bot.channels.xml_messages import MalformedXml, cdata_safe, parse_document, render_text_reply


def test_a_push_parses_into_its_fields():
    fields = parse_document(
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[备案]]></Content><MsgId>123</MsgId></xml>".encode()
    )
    assert fields == {"ToUserName": "gh_1", "MsgType": "text", "Content": "备案", "MsgId": "123"}


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE xml [<!ENTITY a "x">]><xml><Content>&a;</Content></xml>',
        b'<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd"><xml/>',
        b"<xml><Content>open</xml>",
        b"",
        b"<root/>",
    ],
    ids=["entity", "external-dtd", "malformed", "empty", "wrong-root"],
)
def test_entities_dtds_and_malformed_documents_are_refused(body):
    with pytest.raises(MalformedXml):
        parse_document(body)


@pytest.mark.parametrize("content", ["]]>", "a]]>b]]>c", "<xml>&amp;</xml>", "]]]]>", "控制\x00字符\x0b"])
def test_reply_content_survives_any_text(content):
    xml = render_text_reply("openid-1", "gh_1", content, create_time=1700000000)
    root = safe_xml.fromstring(xml)
    assert root.findtext("Content") == content.replace("\x00", "").replace("\x0b", "")
    assert root.findtext("ToUserName") == "openid-1" and root.findtext("FromUserName") == "gh_1"
    assert root.findtext("CreateTime") == "1700000000" and root.findtext("MsgType") == "text"


def test_cdata_safe_splits_the_terminator():
    assert cdata_safe("a]]>b") == "a]]]]><![CDATA[>b"
