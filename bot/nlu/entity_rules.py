"""Rule-based entities (numbers, ids, domains, provinces, providers) on blank spaCy zh."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache
from typing import Any

import jieba
import spacy
from spacy.language import Language

from bot.filing.numbers import find_number_spans, parse_number, to_halfwidth
from bot.filing.provinces import all_province_terms

EXTRACTOR_NAME = "FilingEntityExtractor"

ICP_NUMBER = "icp_number"
ORDER_ID = "order_id"
TICKET_ID = "ticket_id"
DOMAIN = "domain"
CLOUDBASE_ENV = "cloudbase_env"
CLOUD_PROVIDER = "cloud_provider"
PROVINCE = "province"

# Breaks ties between equally long spans: the more specific entity wins.
_PRIORITY = {
    ICP_NUMBER: 0, ORDER_ID: 1, TICKET_ID: 1, DOMAIN: 2,
    CLOUDBASE_ENV: 3, CLOUD_PROVIDER: 4, PROVINCE: 5,
}

# Canonical provider name -> what users write. 腾讯云 is included because users
# say where they filed before ("在腾讯云备过").
PROVIDER_ALIASES: dict[str, tuple[str, ...]] = {
    "阿里云": ("阿里云", "阿里", "万网", "aliyun", "Alibaba Cloud", "阿里巴巴云"),
    "腾讯云": ("腾讯云", "Tencent Cloud", "TencentCloud", "qcloud"),
    "华为云": ("华为云", "Huawei Cloud", "HuaweiCloud"),
    "百度智能云": ("百度智能云", "百度云"),
    "京东云": ("京东云",),
    "火山引擎": ("火山引擎", "Volcengine"),
    "天翼云": ("天翼云", "ctyun"),
    "移动云": ("移动云", "中国移动云"),
    "联通云": ("联通云", "中国联通云"),
    "UCloud": ("UCloud", "优刻得"),
    "七牛云": ("七牛云", "七牛"),
    "又拍云": ("又拍云",),
    "金山云": ("金山云",),
    "西部数码": ("西部数码",),
    "新网": ("新网",),
    "AWS": ("AWS", "亚马逊云", "亚马逊云科技", "Amazon Web Services"),
    "Azure": ("Azure", "微软云"),
    "Google Cloud": ("Google Cloud", "GoogleCloud", "谷歌云", "GCP"),
    "Cloudflare": ("Cloudflare",),
}

# Source-file extensions that are also ccTLDs (py, md, sh, rs, pl ...) are left
# out on purpose: "main.py" must not become a domain.
_TLDS = (
    "com", "net", "org", "cn", "info", "biz", "top", "xyz", "io", "co", "me", "cc",
    "tv", "vip", "club", "site", "online", "shop", "store", "tech", "app", "dev",
    "ai", "wang", "ltd", "work", "fun", "art", "link", "pro", "cloud", "ink", "red",
    "kim", "ren", "xin", "live", "life", "world", "space", "website", "press",
    "news", "group", "games", "mobi", "asia", "tw", "hk", "mo", "jp", "kr", "sg",
    "us", "uk", "eu", "de", "fr", "ru", "ca", "au", "edu", "gov", "icu", "love",
    "中国", "中國", "公司", "网络", "在线", "网址", "网店", "集团", "中文网", "商城", "我爱你",
)
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_TLD_ALT = "|".join(sorted(_TLDS, key=len, reverse=True))
_DOMAIN_RE = re.compile(
    rf"(?<![a-z0-9@._-])"
    rf"(?:(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?|[{_CJK}]{{1,20}})\.)+"
    rf"(?:{_TLD_ALT})"
    rf"(?![a-z0-9-])(?!\.[a-z0-9{_CJK}])"
)
_EMAIL_RE = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_ENV_RE = re.compile(
    r"(?<![a-z0-9-])"
    r"(?:env-[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
    # Console-generated ids end in a random part holding letters and digits.
    r"|[a-z][a-z0-9-]{2,30}-(?=[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{4,})"
    r"(?![a-z0-9-])"
)
_ORDER_RE = re.compile(r"(?<![a-z0-9])ba\s*-\s*(?:\d{8}|demo)\s*-\s*\d{4}(?![0-9])")
_TICKET_RE = re.compile(r"(?<![a-z0-9])tk\s*-\s*\d{8}\s*-\s*\d{4}(?![0-9])")
_WHITESPACE = re.compile(r"\s+")
# str.lower() may change the length of non-ASCII text ("İ"); offsets must not move.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

# Provider names that must win against a following 云 word: without the boost
# jieba cuts "腾讯云云托管" as 腾讯/云云/托管.
# Province names keep jieba's suggested frequency: boosting them turns
# "把东西藏起来" into 东/西藏/起来.
_STRONG_WORDS = {"腾讯云": 20000, "华为云": 20000, "京东云": 20000, "金山云": 20000}

# Words that precede a Chinese domain label in a sentence ("我的域名是例子.中国")
# but are never part of it.
_LABEL_LEAD_WORDS = frozenset(
    "我 我的 你 你们 我们 的 是 就是 域名 网站 网址 中文 中文域名 叫 叫做 名为 用 了 在 把 将 想 要 "
    "给 和 与 及 或 注册 注册了 买 买了 购买 购买了 备案 绑定 解析 访问 打开 请问 你好 还有 以及 "
    "这个 那个 一个 个 有 新 个人".split()
)


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    entity: str
    value: str


@cache
def build_pipeline() -> Language:
    """The blank zh pipeline (private jieba) with the name ruler, built once per process."""
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    # A private jieba dictionary: our added words must not change the global
    # jieba that Rasa's JiebaTokenizer (and so the intent features) relies on.
    nlp.tokenizer.jieba_seg = _build_segmenter()
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    patterns: list[dict[str, Any]] = [
        {"label": PROVINCE, "pattern": term, "id": province.name}
        for term, province in all_province_terms()
    ]
    patterns += [
        {"label": CLOUD_PROVIDER, "pattern": alias, "id": canonical}
        for canonical, aliases in PROVIDER_ALIASES.items()
        for alias in aliases
    ]
    ruler.add_patterns(patterns)
    return nlp


def _build_segmenter() -> jieba.Tokenizer:
    segmenter = jieba.Tokenizer()
    for term, _ in all_province_terms():
        segmenter.add_word(term)
    for aliases in PROVIDER_ALIASES.values():
        for alias in aliases:
            if not alias.isascii():
                segmenter.add_word(alias, freq=_STRONG_WORDS.get(alias))
    return segmenter


class FilingEntityFinder:
    """Finds filing-related entities and returns them as Rasa entity dicts."""

    def __init__(self, nlp: Language | None = None) -> None:
        """Use the given pipeline, or the process-wide one from build_pipeline()."""
        self._nlp = nlp if nlp is not None else build_pipeline()
        self._segmenter = self._nlp.tokenizer.jieba_seg
        self._province_terms = all_province_terms()

    def extract(self, text: str) -> list[dict[str, Any]]:
        """Non-overlapping entities of `text`, longest span first, in text order."""
        if not text or not text.strip():
            return []
        # Same length as `text`, so regex offsets are offsets into the original.
        folded = to_halfwidth(text).translate(_ASCII_LOWER)
        candidates = (
            self._numbers(text)
            + self._ids(folded)
            + self._domains(folded)
            + self._phrases(text)
        )
        blocked = [_Candidate(m.start(), m.end(), "email", "") for m in _EMAIL_RE.finditer(folded)]
        chosen = _resolve_overlaps(candidates, blocked, len(text))
        return [_as_entity(c) for c in sorted(chosen, key=lambda c: c.start)]

    def _numbers(self, text: str) -> list[_Candidate]:
        return [
            _Candidate(start, end, ICP_NUMBER, parse_number(text[start:end]).normalized)
            for start, end in find_number_spans(text)
        ]

    def _ids(self, folded: str) -> list[_Candidate]:
        found = [
            _Candidate(m.start(), m.end(), entity, _WHITESPACE.sub("", m.group()).upper())
            for entity, pattern in ((ORDER_ID, _ORDER_RE), (TICKET_ID, _TICKET_RE))
            for m in pattern.finditer(folded)
        ]
        found += [
            _Candidate(m.start(), m.end(), CLOUDBASE_ENV, m.group())
            for m in _ENV_RE.finditer(folded)
        ]
        return found

    def _domains(self, folded: str) -> list[_Candidate]:
        found = []
        for match in _DOMAIN_RE.finditer(folded):
            start = match.start() + _lead_words_length(match.group(), self._segmenter)
            if start < match.end() and folded[start] != ".":
                found.append(_Candidate(start, match.end(), DOMAIN, folded[start:match.end()]))
        return found

    def _phrases(self, text: str) -> list[_Candidate]:
        doc = self._nlp(text)
        found = [_Candidate(e.start_char, e.end_char, e.label_, e.ent_id_) for e in doc.ents]
        covered = {token.i for ent in doc.ents for token in ent}
        # jieba keeps some place names whole ("上海浦东"); a word that begins
        # with a province name still names that province.
        for token in doc:
            if token.i in covered or token.is_ascii:
                continue
            for term, province in self._province_terms:
                if len(term) < len(token.text) and token.text.startswith(term):
                    end = token.idx + len(term)
                    found.append(_Candidate(token.idx, end, PROVINCE, province.name))
                    break
        return found


def _lead_words_length(domain: str, segmenter: jieba.Tokenizer) -> int:
    """Length of sentence words glued in front of a Chinese first label."""
    label = domain.split(".", 1)[0]
    if not label or label.isascii():
        return 0
    length = 0
    for word in segmenter.lcut(label):
        if word not in _LABEL_LEAD_WORDS:
            break
        length += len(word)
    return length


def _resolve_overlaps(
    candidates: list[_Candidate], blocked: list[_Candidate], text_length: int
) -> list[_Candidate]:
    """Keep the longest spans (ties: the more specific entity); drop anything in an email."""
    taken = bytearray(text_length)
    for span in blocked:
        taken[span.start:span.end] = b"\x01" * (span.end - span.start)
    chosen: list[_Candidate] = []
    ranked = sorted(candidates, key=lambda c: (c.start - c.end, _PRIORITY[c.entity], c.start))
    for candidate in ranked:
        if not any(taken[candidate.start:candidate.end]):
            taken[candidate.start:candidate.end] = b"\x01" * (candidate.end - candidate.start)
            chosen.append(candidate)
    return chosen


def _as_entity(candidate: _Candidate) -> dict[str, Any]:
    return {
        "entity": candidate.entity,
        "value": candidate.value,
        "start": candidate.start,
        "end": candidate.end,
        "confidence_entity": 1.0,
        "extractor": EXTRACTOR_NAME,
    }
