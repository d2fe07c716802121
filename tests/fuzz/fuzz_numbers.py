"""Fuzz harness: the ICP number parser and the personal-data masking never raise on any text,
spans stay inside the text, and masking twice changes nothing.

Run by tests/fuzz/test_fuzz_runs.py (bounded and seeded); by hand:
`.venv/bin/python tests/fuzz/fuzz_numbers.py -runs=100000 -dict=tests/fuzz/numbers.dict`.
"""
import sys

import atheris

with atheris.instrument_imports(include=["bot"]):
    from bot.filing.numbers import REASON_CODES, InvalidNumber, find_number_spans, first_number, parse_number
    from bot.privacy import find_personal_data, mask_personal_data


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    parsed = parse_number(text, current_year=2026)
    assert not isinstance(parsed, InvalidNumber) or parsed.reason in REASON_CODES
    spans = find_number_spans(text)
    assert all(0 <= start < end <= len(text) for start, end in spans)
    assert (first_number(text) is None) == (spans == [])
    masked = mask_personal_data(text)
    assert len(masked) == len(text) and mask_personal_data(masked) == masked
    assert (masked == text) == (find_personal_data(text) == [])


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
