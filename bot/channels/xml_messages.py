"""Hardened parsing of callback XML and rendering of passive replies.

Bodies are size-checked by the caller, then parsed by defusedxml (no DTDs, no entities)
before wechatpy ever sees them; replies are rendered by wechatpy with the content made
CDATA-safe (wechatpy would let a `]]>` in the content end the CDATA section).
"""
from __future__ import annotations

import re
import time
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from wechatpy.replies import TextReply

# Real pushes are under 1 KB; anything near this is not from the platform.
MAX_BODY_BYTES = 64 * 1024
# Characters XML 1.0 cannot carry at all, even in CDATA.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class MalformedXml(ValueError):
    """Not well-formed, not a WeChat <xml> document, or carrying a DTD/entities (400)."""


def parse_document(body: bytes) -> dict[str, str]:
    """The child elements of a flat `<xml>` document as a dict of text values."""
    try:
        root: Element = safe_xml.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedXml(f"DTDs and entities are not accepted ({type(exc).__name__})") from None
    except ParseError as exc:
        raise MalformedXml(f"not well-formed XML: {exc}") from None
    except (LookupError, ValueError) as exc:  # expat on a declared encoding it cannot read (x-unknown, gbk)
        raise MalformedXml(f"unreadable encoding: {exc}") from None
    if root.tag != "xml":
        raise MalformedXml("the root element must be <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


def cdata_safe(text: str) -> str:
    """`text` for a CDATA section: `]]>` split across two sections, XML-illegal characters dropped."""
    return _XML_INVALID.sub("", text).replace("]]>", "]]]]><![CDATA[>")


def render_text_reply(to_user: str, from_user: str, content: str, create_time: int | None = None) -> str:
    """A passive text reply (strings in CDATA), safe for any content."""
    reply = TextReply(
        target=cdata_safe(to_user),
        source=cdata_safe(from_user),
        content=cdata_safe(content),
        time=create_time if create_time is not None else int(time.time()),
    )
    return reply.render()


def render_encrypted_reply(encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    """The envelope of an encrypted passive reply."""
    return (
        "<xml>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>"
        f"<MsgSignature><![CDATA[{msg_signature}]]></MsgSignature>"
        f"<TimeStamp>{int(timestamp)}</TimeStamp>"
        f"<Nonce><![CDATA[{cdata_safe(nonce)}]]></Nonce>"
        "</xml>"
    )
