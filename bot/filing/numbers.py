"""Parsing and locating ICP filing, licence and public-security numbers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum

from bot.filing.provinces import Province, province_by_abbreviation, simplify_abbreviation


class NumberKind(str, Enum):
    """What a well-formed number identifies."""

    SUBJECT = "subject"
    WEBSITE = "website"
    LICENSE = "license"
    LICENSE_SITE = "license_site"
    PUBLIC_SECURITY = "public_security"


REASON_CODES: tuple[str, ...] = (
    "not_a_number",
    "missing_province",
    "unknown_province",
    "missing_icp_marker",
    "missing_serial",
    "serial_length",
    "bad_year",
    "missing_hao",
    "bad_site_seq",
    "public_security_length",
    "trailing_garbage",
)


@dataclass(frozen=True)
class FilingNumber:
    """A well-formed number; `normalized` is its canonical spelling."""

    raw: str
    normalized: str
    kind: NumberKind
    province: Province
    serial: str
    site_seq: int | None


@dataclass(frozen=True)
class InvalidNumber:
    """A number-like text that is malformed; `reason` is one of REASON_CODES."""

    raw: str
    normalized: str
    reason: str
    detail: str


ParsedNumber = FilingNumber | InvalidNumber

# Everything users type for a hyphen: em/en dashes, minus, katakana long mark.
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\ufe63")
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")
# Traditional spellings of the marker characters inside numbers.
_MARKER_FOLD = {"備": "备", "號": "号", "證": "证", "網": "网"}
_EDGE_PUNCTUATION = " 。，,.!！?？、；;：:\"'“”‘’（）()《》<>【】[]「」"
_LICENSE_FIRST_YEAR = 1997
_NEW_SERIAL_FIRST_YEAR = 2010
_MAX_SITE_SEQ = 999


def _halfwidth_char(char: str) -> str:
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if char == "\u3000":
        return " "
    return "-" if char in _DASHES else char


def _fold_char(char: str) -> str:
    """Map one character to half-width, dash as '-', ASCII upper case (1:1)."""
    char = _halfwidth_char(char)
    return char.upper() if "a" <= char <= "z" else char


def to_halfwidth(text: str) -> str:
    """Full-width ASCII and dash-like chars to plain ASCII, keeping length and case."""
    return "".join(_halfwidth_char(c) for c in text)


def normalize_number_text(text: str) -> str:
    """Half-width, upper-case ASCII, dashes as '-', all whitespace removed."""
    folded = (_fold_char(c) for c in text)
    return "".join(c for c in folded if not c.isspace() and c not in _INVISIBLE)


def _fold_scripts(text: str) -> str:
    """Fold Traditional marker characters and province abbreviations to simplified."""
    return "".join(simplify_abbreviation(_MARKER_FOLD.get(c, c)) for c in text)


def _canonical_text(text: str) -> str:
    return _fold_scripts(normalize_number_text(text)).strip(_EDGE_PUNCTUATION)


def _folded_with_offsets(text: str) -> tuple[str, list[int]]:
    """Fold like _canonical_text, remembering each kept char's original index."""
    chars: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if folded.isspace() or folded in _INVISIBLE:
            continue
        chars.append(simplify_abbreviation(_MARKER_FOLD.get(folded, folded)))
        offsets.append(index)
    return "".join(chars), offsets


_MARKER = re.compile(r"ICP备|ICP证|ICP|公网安备|[AB][12](?=-?\d)|备(?=\d)")
_ICP_TAIL = re.compile(r"(?P<serial>\d*)(?P<hao>号?)(?:-(?P<seq>\d+))?(?P<rest>.*)", re.S)
_LICENSE_TAIL = re.compile(r"-?(?P<serial>\d*)(?P<hao>号?)(?:-(?P<seq>\d+))?(?P<rest>.*)", re.S)
_PUBLIC_TAIL = re.compile(r"(?P<serial>\d*)号?(?P<rest>.*)", re.S)
_BARE_DIGITS = re.compile(r"\d")


def parse_number(text: str, *, current_year: int | None = None) -> ParsedNumber:
    """Parse one filing/licence/public-security number, tolerant of width and spaces."""
    year_now = current_year or date.today().year
    canon = _canonical_text(text)

    def invalid(reason: str, detail: str = "") -> InvalidNumber:
        return InvalidNumber(raw=text, normalized=canon, reason=reason, detail=detail)

    marker = _MARKER.search(canon)
    if marker is None:
        head = province_by_abbreviation(canon[:1]) if canon else None
        if head is not None and _BARE_DIGITS.match(canon[1:2]):
            return invalid("missing_icp_marker", canon[0])
        return invalid("not_a_number")
    prefix = canon[: marker.start()]
    if not prefix:
        return invalid("missing_province")
    province = province_by_abbreviation(prefix) if len(prefix) == 1 else None
    if province is None:
        return invalid("unknown_province", prefix)
    token, tail = marker.group(), canon[marker.end():]
    if token in ("ICP", "备"):
        return invalid("missing_icp_marker", prefix)
    if token == "公网安备":
        return _parse_public_security(text, canon, prefix, province, tail)
    if token == "ICP备":
        match = _ICP_TAIL.fullmatch(tail)
        kinds = (NumberKind.SUBJECT, NumberKind.WEBSITE)
        serial_error = _check_icp_serial(match["serial"], year_now)
        stem = f"{prefix}ICP备{match['serial']}号"
    elif token == "ICP证":
        match = _ICP_TAIL.fullmatch(tail)
        kinds = (NumberKind.LICENSE, NumberKind.LICENSE_SITE)
        serial_error = None if len(match["serial"]) == 6 else ("serial_length", match["serial"])
        stem = f"{prefix}ICP证{match['serial']}号"
    else:
        match = _LICENSE_TAIL.fullmatch(tail)
        kinds = (NumberKind.LICENSE, NumberKind.LICENSE_SITE)
        serial_error = _check_license_serial(match["serial"], year_now)
        stem = f"{prefix}{token}-{match['serial']}"
    serial, seq_text, rest = match["serial"], match["seq"], match["rest"]
    if not serial:
        return invalid("missing_serial")
    if serial_error is not None:
        return invalid(*serial_error)
    if seq_text is not None and not match["hao"] and token.startswith("ICP"):
        return invalid("missing_hao", serial)
    if seq_text is not None and not _valid_site_seq(seq_text):
        return invalid("bad_site_seq", seq_text)
    if rest:
        return invalid("trailing_garbage", rest[:12])
    if seq_text is None:
        return FilingNumber(text, stem, kinds[0], province, serial, None)
    return FilingNumber(text, f"{stem}-{seq_text}", kinds[1], province, serial, int(seq_text))


def _parse_public_security(
    text: str, canon: str, prefix: str, province: Province, tail: str
) -> ParsedNumber:
    """Public-security numbers: 14 digits after 公网安备, optional 号, no site sequence."""
    match = _PUBLIC_TAIL.fullmatch(tail)
    serial, rest = match["serial"], match["rest"]
    if not serial:
        return InvalidNumber(text, canon, "missing_serial", "")
    if len(serial) != 14:
        return InvalidNumber(text, canon, "public_security_length", serial)
    if rest:
        return InvalidNumber(text, canon, "trailing_garbage", rest[:12])
    normalized = f"{prefix}公网安备{serial}号"
    return FilingNumber(text, normalized, NumberKind.PUBLIC_SECURITY, province, serial, None)


def _check_icp_serial(serial: str, year_now: int) -> tuple[str, str] | None:
    """Old serials have 8 digits; new ones have 10 and start with the filing year."""
    if len(serial) == 8 or not serial:
        return None
    if len(serial) != 10:
        return ("serial_length", serial)
    if not _NEW_SERIAL_FIRST_YEAR <= int(serial[:4]) <= year_now:
        return ("bad_year", serial[:4])
    return None


def _check_license_serial(serial: str, year_now: int) -> tuple[str, str] | None:
    """Licence serials (B2-20090059) are the issue year plus four digits."""
    if not serial:
        return None
    if len(serial) != 8:
        return ("serial_length", serial)
    if not _LICENSE_FIRST_YEAR <= int(serial[:4]) <= year_now:
        return ("bad_year", serial[:4])
    return None


def _valid_site_seq(seq_text: str) -> bool:
    return not seq_text.startswith("0") and int(seq_text) <= _MAX_SITE_SEQ


# Candidates in running text. The optional leading char is judged afterwards,
# because only a known abbreviation or a stand-alone char belongs to the number.
_CANDIDATE = re.compile(
    r"(?P<prov>[\u3400-\u4dbf\u4e00-\u9fff])?"
    r"(?:(?P<icp>ICP[备证]?\d+号?(?:-\d+)?)"
    r"|(?P<public>公网安备\d+号?)"
    r"|(?P<license>[AB][12]-?\d{6,}(?:-\d+)?)"
    r"|(?P<bare>备?\d{6,}号(?:-\d+)?))"
)


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def find_number_spans(text: str) -> list[tuple[int, int]]:
    """Spans (start, end) in the original text of every number-like candidate."""
    folded, offsets = _folded_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for match in _CANDIDATE.finditer(folded):
        prov = match["prov"]
        known = prov is not None and province_by_abbreviation(prov) is not None
        if (match["license"] or match["bare"]) and not known:
            continue
        start = match.start()
        if prov is not None and not known:
            # An unknown char counts as a (wrong) province only when it stands
            # alone; in "我的ICP备..." the 的 is ordinary text.
            standalone = start == 0 or not _is_cjk(folded[start - 1])
            if not standalone:
                start = match.start("prov") + 1
        spans.append((offsets[start], offsets[match.end() - 1] + 1))
    return spans


def first_number(text: str) -> ParsedNumber | None:
    """Parse the first number-like candidate in a sentence, or None if there is none."""
    spans = find_number_spans(text)
    if not spans:
        return None
    start, end = spans[0]
    return parse_number(text[start:end])


def describe_invalid(number: InvalidNumber, reasons: Mapping[str, str]) -> str:
    """Fill the reason's message template (loaded from data) with the number's detail."""
    return reasons[number.reason].format(detail=number.detail)
