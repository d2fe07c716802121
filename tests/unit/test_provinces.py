import pytest

from bot.filing.provinces import (
    PROVINCES,
    all_province_terms,
    province_by_abbreviation,
    province_by_name,
)


def test_there_are_31_provinces_with_unique_names_and_abbreviations() -> None:
    names = [p.name for p in PROVINCES]
    abbreviations = [a for p in PROVINCES for a in p.abbreviations]
    assert len(PROVINCES) == 31
    assert len(set(names)) == 31
    assert len(set(abbreviations)) == len(abbreviations)


def test_provinces_are_immutable() -> None:
    with pytest.raises(AttributeError):
        PROVINCES[0].name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("abbreviation", "name"),
    [
        ("京", "北京"), ("津", "天津"), ("沪", "上海"), ("渝", "重庆"), ("冀", "河北"),
        ("晋", "山西"), ("蒙", "内蒙古"), ("辽", "辽宁"), ("吉", "吉林"), ("黑", "黑龙江"),
        ("苏", "江苏"), ("浙", "浙江"), ("皖", "安徽"), ("闽", "福建"), ("赣", "江西"),
        ("鲁", "山东"), ("豫", "河南"), ("鄂", "湖北"), ("湘", "湖南"), ("粤", "广东"),
        ("桂", "广西"), ("琼", "海南"), ("川", "四川"), ("蜀", "四川"), ("黔", "贵州"),
        ("贵", "贵州"), ("滇", "云南"), ("云", "云南"), ("藏", "西藏"), ("陕", "陕西"),
        ("秦", "陕西"), ("甘", "甘肃"), ("陇", "甘肃"), ("青", "青海"), ("宁", "宁夏"),
        ("新", "新疆"),
    ],
)
def test_every_abbreviation_finds_its_province(abbreviation: str, name: str) -> None:
    province = province_by_abbreviation(abbreviation)
    assert province is not None
    assert province.name == name


@pytest.mark.parametrize(
    ("traditional", "name"),
    [
        ("滬", "上海"), ("渝", "重庆"), ("蘇", "江苏"), ("閩", "福建"), ("贛", "江西"),
        ("魯", "山东"), ("鄂", "湖北"), ("湘", "湖南"), ("粵", "广东"), ("瓊", "海南"),
        ("黔", "贵州"), ("貴", "贵州"), ("陝", "陕西"), ("隴", "甘肃"), ("寧", "宁夏"),
        ("遼", "辽宁"), ("雲", "云南"), ("晉", "山西"),
    ],
)
def test_traditional_abbreviations_find_the_same_province(traditional: str, name: str) -> None:
    province = province_by_abbreviation(traditional)
    assert province is not None
    assert province.name == name


def test_official_icp_abbreviation_comes_first() -> None:
    assert province_by_abbreviation("云").abbreviations[0] == "滇"
    assert province_by_abbreviation("贵").abbreviations[0] == "黔"


@pytest.mark.parametrize("char", ["中", "A", "", "京京", "华"])
def test_unknown_abbreviations_find_nothing(char: str) -> None:
    assert province_by_abbreviation(char) is None


@pytest.mark.parametrize(
    ("variant", "name"),
    [
        ("北京", "北京"), ("北京市", "北京"), ("广东省", "广东"), ("廣東", "广东"),
        ("内蒙古自治区", "内蒙古"), ("內蒙古", "内蒙古"), ("广西壮族自治区", "广西"),
        ("廣西", "广西"), ("遼寧", "辽宁"), ("雲南", "云南"), ("貴州", "贵州"),
        ("陝西", "陕西"), ("黑龍江", "黑龙江"), ("寧夏", "宁夏"),
        ("新疆維吾爾自治區", "新疆"), ("新疆维吾尔自治区", "新疆"), ("西藏自治区", "西藏"),
        ("宁夏回族自治区", "宁夏"), (" 重庆市 ", "重庆"),
    ],
)
def test_any_name_variant_finds_its_province(variant: str, name: str) -> None:
    province = province_by_name(variant)
    assert province is not None
    assert province.name == name


@pytest.mark.parametrize("text", ["京", "北", "华北", "东北三省", "Beijing"])
def test_abbreviations_and_unrelated_words_are_not_names(text: str) -> None:
    assert province_by_name(text) is None


def test_all_province_terms_cover_every_name_but_no_single_abbreviation() -> None:
    terms = all_province_terms()
    words = {term for term, _ in terms}
    assert {p.name for p in PROVINCES} <= words
    assert "广西壮族自治区" in words and "廣東" in words
    assert all(len(term) >= 2 for term in words)
    assert all(province_by_name(term) is province for term, province in terms)


def test_all_province_terms_list_longer_terms_first() -> None:
    lengths = [len(term) for term, _ in all_province_terms()]
    assert lengths == sorted(lengths, reverse=True)
