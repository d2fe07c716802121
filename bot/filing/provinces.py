"""The 31 mainland provincial divisions, their abbreviations and name variants."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Province:
    """A provincial division: canonical short name, abbreviations, name variants."""

    name: str
    abbreviations: tuple[str, ...]
    variants: tuple[str, ...]


# The first abbreviation is the one the brief/facts list first. Note that MIIT
# numbers in use today start with 蜀 for Sichuan and 陇 for Gansu, so callers
# must not rebuild a user's number from abbreviations[0].
PROVINCES: tuple[Province, ...] = (
    Province("北京", ("京",), ("北京市",)),
    Province("天津", ("津",), ("天津市",)),
    Province("上海", ("沪",), ("上海市",)),
    Province("重庆", ("渝",), ("重庆市", "重慶", "重慶市")),
    Province("河北", ("冀",), ("河北省",)),
    Province("山西", ("晋",), ("山西省",)),
    Province("内蒙古", ("蒙",), ("内蒙古自治区", "內蒙古", "內蒙古自治區")),
    Province("辽宁", ("辽",), ("辽宁省", "遼寧", "遼寧省")),
    Province("吉林", ("吉",), ("吉林省",)),
    Province("黑龙江", ("黑",), ("黑龙江省", "黑龍江", "黑龍江省")),
    Province("江苏", ("苏",), ("江苏省", "江蘇", "江蘇省")),
    Province("浙江", ("浙",), ("浙江省",)),
    Province("安徽", ("皖",), ("安徽省",)),
    Province("福建", ("闽",), ("福建省",)),
    Province("江西", ("赣",), ("江西省",)),
    Province("山东", ("鲁",), ("山东省", "山東", "山東省")),
    Province("河南", ("豫",), ("河南省",)),
    Province("湖北", ("鄂",), ("湖北省",)),
    Province("湖南", ("湘",), ("湖南省",)),
    Province("广东", ("粤",), ("广东省", "廣東", "廣東省")),
    Province("广西", ("桂",), ("广西壮族自治区", "广西自治区", "廣西", "廣西壯族自治區")),
    Province("海南", ("琼",), ("海南省",)),
    Province("四川", ("川", "蜀"), ("四川省",)),
    Province("贵州", ("黔", "贵"), ("贵州省", "貴州", "貴州省")),
    Province("云南", ("滇", "云"), ("云南省", "雲南", "雲南省")),
    Province("西藏", ("藏",), ("西藏自治区", "西藏自治區")),
    Province("陕西", ("陕", "秦"), ("陕西省", "陝西", "陝西省")),
    Province("甘肃", ("甘", "陇"), ("甘肃省", "甘肅", "甘肅省")),
    Province("青海", ("青",), ("青海省",)),
    Province("宁夏", ("宁",), ("宁夏回族自治区", "宁夏自治区", "寧夏", "寧夏回族自治區")),
    Province("新疆", ("新",), ("新疆维吾尔自治区", "新疆自治区", "新疆維吾爾自治區")),
)

# Traditional forms of abbreviations that differ from the simplified ones
# (渝 鄂 湘 黔 and most others are written the same in both scripts).
TRADITIONAL_ABBREVIATIONS: dict[str, str] = {
    "滬": "沪",
    "遼": "辽",
    "蘇": "苏",
    "閩": "闽",
    "贛": "赣",
    "魯": "鲁",
    "粵": "粤",
    "瓊": "琼",
    "貴": "贵",
    "雲": "云",
    "陝": "陕",
    "隴": "陇",
    "寧": "宁",
    "晉": "晋",
}


@cache
def _by_abbreviation() -> dict[str, Province]:
    index = {abbr: p for p in PROVINCES for abbr in p.abbreviations}
    for traditional, simplified in TRADITIONAL_ABBREVIATIONS.items():
        index[traditional] = index[simplified]
    return index


@cache
def _by_name() -> dict[str, Province]:
    return {term: p for p in PROVINCES for term in (p.name, *p.variants)}


def simplify_abbreviation(char: str) -> str:
    """Return the simplified form of a Traditional abbreviation, else the input."""
    return TRADITIONAL_ABBREVIATIONS.get(char, char)


def province_by_abbreviation(char: str) -> Province | None:
    """Look up a province by a one-character abbreviation (simplified or Traditional)."""
    return _by_abbreviation().get(char.strip())


def province_by_name(text: str) -> Province | None:
    """Look up a province by its short name or any name variant."""
    return _by_name().get(text.strip())


def all_province_terms() -> list[tuple[str, Province]]:
    """Every name and variant with its province, longest first, for phrase matchers."""
    terms = [(term, p) for p in PROVINCES for term in (p.name, *p.variants)]
    return sorted(terms, key=lambda pair: -len(pair[0]))
