"""Fuzz harness: the callback XML reader raises nothing but MalformedXml, on any bytes.

The input is used as it is, after an XML declaration with a fuzzed encoding name, or inside a
push's <Content>, so the mutations reach expat's encodings and the CDATA/entity handling fast.
Run by tests/fuzz/test_fuzz_runs.py (bounded and seeded); by hand:
`.venv/bin/python tests/fuzz/fuzz_xml.py -runs=500000 -dict=tests/fuzz/xml.dict tests/fuzz/corpus/xml`
(libFuzzer adds what it finds to a corpus folder: give it a copy).
"""
import sys

import atheris

with atheris.instrument_imports(include=["bot", "defusedxml", "xml"]):
    from bot.channels.xml_messages import MalformedXml, parse_document, render_text_reply


def body_from(data: bytes) -> bytes:
    fuzz = atheris.FuzzedDataProvider(data)
    shape = fuzz.ConsumeIntInRange(0, 2)
    if shape == 1:
        encoding = fuzz.ConsumeUnicodeNoSurrogates(12).encode("utf-8")
        rest = fuzz.ConsumeBytes(fuzz.remaining_bytes())
        return b'<?xml version="1.0" encoding="' + encoding + b'"?><xml>' + rest + b"</xml>"
    if shape == 2:
        rest = fuzz.ConsumeBytes(fuzz.remaining_bytes())
        return b"<xml><MsgType>text</MsgType><Content>" + rest + b"</Content></xml>"
    return fuzz.ConsumeBytes(fuzz.remaining_bytes())


def test_one_input(data: bytes) -> None:
    try:
        fields = parse_document(body_from(data))
    except MalformedXml:
        return
    # Whatever was read can be sent back in a reply and reads back the same.
    content = fields.get("Content", "")
    reply = parse_document(render_text_reply("u", "gh", content, create_time=0).encode("utf-8"))
    assert reply["Content"] == content.strip(), (content, reply)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
