"""bot/content/knowledge.py over the real data/knowledge folder, checked against the seed and spec."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from bot.content.knowledge import MAX_REPLY_CHARS, KnowledgeBase, KnowledgeError
from bot.filing.quota import NoIpReason

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE_DIR = ROOT / "data" / "knowledge"
NLU_DIR = ROOT / "data" / "nlu"
# The project's shared sources sit beside the repository (CI lays them out the same way).
SHARED = Path(__file__).resolve().parents[3] / "shared"
SEED_DOCUMENT = Path(os.environ.get("FILING_SEED_DOCUMENT") or SHARED / "seeds" / "000_616f80309a20bb72.txt")
INTENT_SPEC = Path(os.environ.get("FILING_INTENT_SPEC") or SHARED / "spec" / "intents.md")

MAX_SCENARIO_CHARS = 280

FIXED_TEXT_INTENTS = [
    "why_filing", "no_filing_impact", "filing_success", "number_format", "filing_preparation",
    "filing_process", "request_human", "ticket_status", "greet", "goodbye", "thank", "affirm",
    "deny", "bot_challenge", "out_of_scope",
]

FILING_SCENARIO_INTENTS = {
    "first_filing", "access_filing", "add_website", "change_filing", "change_website",
    "cancel_subject", "cancel_website", "cancel_access",
}

# Each scenario and the title of its document in the seed's 更多域名备案文档 table.
SCENARIO_DOCUMENTS = {
    "first_filing": "首次备案",
    "access_filing": "接入备案",
    "add_website_here": "新增网站（原备案在腾讯云）",
    "add_website_elsewhere": "新增网站（原备案不在腾讯云）",
    "change_filing": "变更备案",
    "change_website": "变更网站",
    "cancel_subject": "注销主体",
    "cancel_website": "注销网站",
    "cancel_access": "取消接入网站",
}

_PLACEHOLDER = re.compile(r"\{(?!link:)([A-Za-z_][A-Za-z0-9_]*)\}")
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+")
_MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")


def _read(path: Path) -> str:
    if not path.exists():
        pytest.skip(f"{path} not found (set FILING_SEED_DOCUMENT / FILING_INTENT_SPEC)")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load(KNOWLEDGE_DIR)


@pytest.fixture(scope="module")
def seed_text() -> str:
    return _read(SEED_DOCUMENT)


@pytest.fixture(scope="module")
def seed_documents(seed_text: str) -> dict[str, str]:
    """Title -> URL of every markdown link in the seed document."""
    return {title: url for title, url in re.findall(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", seed_text)}


@pytest.fixture(scope="module")
def spec_intents() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", _read(INTENT_SPEC), flags=re.MULTILINE))


def raw_section(file_name: str, section: str) -> dict:
    return yaml.safe_load((KNOWLEDGE_DIR / file_name).read_text(encoding="utf-8"))[section]


def markdown_in(text: str) -> list[str]:
    """The markdown constructs found in a reply (WeChat shows them raw)."""
    found = []
    if "**" in text:
        found.append("bold **")
    if "#" in _URL.sub("", text):
        found.append("heading #")
    if "|" in text:
        found.append("table |")
    if _MARKDOWN_LINK.search(text):
        found.append("link [..](..)")
    return found


def assert_fit_for_chat(text: str, where: str) -> None:
    assert text.strip(), f"{where} is empty"
    assert len(text) <= MAX_REPLY_CHARS, f"{where} has {len(text)} chars"
    assert not markdown_in(text), f"{where} contains markdown: {markdown_in(text)}"
    assert "{" not in text and "}" not in text, f"{where} left a placeholder: {text}"


# --- loading ------------------------------------------------------------------

def test_real_knowledge_folder_loads_every_part(kb: KnowledgeBase) -> None:
    assert kb.links and kb.answers and kb.messages and kb.scenarios and kb.faq
    assert kb.number_reasons and kb.intent_titles


def test_every_no_ip_reason_the_quota_reports_has_a_text(kb: KnowledgeBase) -> None:
    # messages.yml defines the no_ip_reasons section; the actions read it as kb.no_ip_reasons.
    assert set(raw_section("messages.yml", "no_ip_reasons")) == {r.value for r in NoIpReason}
    for reason in NoIpReason:
        assert kb.no_ip_reasons[reason.value] == raw_section("messages.yml", "no_ip_reasons")[reason.value]


def test_section_defined_in_two_files_raises(tmp_path: Path) -> None:
    link = {"x": {"title": "X", "url": "https://example.com/x"}}
    (tmp_path / "a.yml").write_text(yaml.safe_dump({"links": link}), encoding="utf-8")
    (tmp_path / "b.yml").write_text(yaml.safe_dump({"links": link}), encoding="utf-8")

    with pytest.raises(KnowledgeError, match="links"):
        KnowledgeBase.load(tmp_path)


def test_sections_spread_over_files_load_together(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        yaml.safe_dump({"links": {"x": {"title": "X", "url": "https://example.com/x"}}}), encoding="utf-8"
    )
    (tmp_path / "b.yml").write_text(yaml.safe_dump({"answers": {"greet": "见 {link:x}"}}), encoding="utf-8")

    assert KnowledgeBase.load(tmp_path).answer("greet") == "见 https://example.com/x"


# --- rendering ------------------------------------------------------------------

def test_render_fills_links_and_values(kb: KnowledgeBase) -> None:
    text = kb.render("  环境 {env_id}：{link:workorder}\n", env_id="env-demo-ok")

    assert text == "环境 env-demo-ok：https://console.cloud.tencent.com/workorder/category"


def test_render_raises_on_an_unknown_link(kb: KnowledgeBase) -> None:
    with pytest.raises(KnowledgeError, match="no_such_link"):
        kb.render("见 {link:no_such_link}")


def test_render_raises_on_a_missing_value(kb: KnowledgeBase) -> None:
    with pytest.raises(KnowledgeError, match="env_id"):
        kb.render("环境 {env_id}", ip="203.0.113.10")


def test_unknown_answer_message_and_faq_keys_raise(kb: KnowledgeBase) -> None:
    with pytest.raises(KnowledgeError):
        kb.answer("no_such_intent")
    with pytest.raises(KnowledgeError):
        kb.message("no_such_message")
    with pytest.raises(KnowledgeError):
        kb.faq_answer("no_such_faq")


# --- answers for the spec's intents -----------------------------------------------

def test_fixed_text_intents_are_intents_of_the_spec(spec_intents: set[str]) -> None:
    assert set(FIXED_TEXT_INTENTS) <= spec_intents
    assert FILING_SCENARIO_INTENTS <= spec_intents


@pytest.mark.parametrize("intent", FIXED_TEXT_INTENTS)
def test_intent_answered_by_fixed_text_has_an_answer(kb: KnowledgeBase, intent: str) -> None:
    assert_fit_for_chat(kb.answer(intent), f"answer {intent}")


def test_intent_titles_name_only_intents_of_the_spec(kb: KnowledgeBase, spec_intents: set[str]) -> None:
    assert set(kb.intent_titles) <= spec_intents


# --- scenarios --------------------------------------------------------------------

def test_knowledge_base_holds_exactly_the_nine_scenarios_of_the_seed(kb: KnowledgeBase) -> None:
    assert set(kb.scenarios) == set(SCENARIO_DOCUMENTS)


def test_every_filing_scenario_intent_has_its_scenarios(kb: KnowledgeBase) -> None:
    assert {s.intent for s in kb.scenarios.values()} == FILING_SCENARIO_INTENTS
    assert [s.key for s in kb.scenarios_for_intent("add_website")] == ["add_website_here", "add_website_elsewhere"]


@pytest.mark.parametrize("key", sorted(SCENARIO_DOCUMENTS))
def test_scenario_renders_short_with_its_seed_document(
    kb: KnowledgeBase, seed_documents: dict[str, str], key: str
) -> None:
    title = SCENARIO_DOCUMENTS[key]
    url = seed_documents[title]

    text = kb.scenario_text(key)

    assert len(text) < MAX_SCENARIO_CHARS, f"{key} has {len(text)} chars"
    assert url in text
    assert kb.links[kb.scenarios[key].link].url == url
    assert kb.links[kb.scenarios[key].link].title == title
    assert kb.scenarios[key].name in text
    assert_fit_for_chat(text, f"scenario {key}")


# --- FAQ ----------------------------------------------------------------------------

def test_faq_keys_of_nlu_and_knowledge_base_match(kb: KnowledgeBase) -> None:
    nlu = [item for path in sorted(NLU_DIR.glob("*.yml")) for item in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]]
    nlu_keys = {item["intent"].split("/", 1)[1] for item in nlu if item.get("intent", "").startswith("faq/")}

    assert nlu_keys, "no faq/<key> intents in data/nlu/"
    assert nlu_keys - set(kb.faq) == set(), "FAQ intents without an answer"
    assert set(kb.faq) - nlu_keys == set(), "FAQ answers without an intent"


def test_every_faq_answer_fits_a_chat_reply(kb: KnowledgeBase) -> None:
    for key, entry in kb.faq.items():
        assert entry.question.strip(), key
        assert_fit_for_chat(kb.faq_answer(key), f"faq {key}")


# Where an answer's facts may come from: the seed, the project's fact sheet, or a public page.
FACT_SHEET = Path(os.environ.get("FILING_FACT_SHEET") or SHARED / "domain" / "icp-filing-facts.md")
NAMED_SOURCES = {"seed": SEED_DOCUMENT, "facts": FACT_SHEET}
MIN_FAQ_ANSWERS = 60


def test_the_faq_answers_at_least_sixty_common_questions(kb: KnowledgeBase) -> None:
    assert len(kb.faq) >= MIN_FAQ_ANSWERS


def test_every_faq_answer_names_its_sources(kb: KnowledgeBase) -> None:
    unsourced = [key for key, entry in kb.faq.items() if not entry.sources]
    assert unsourced == []


@pytest.mark.parametrize("key", ["seed", "facts"])
def test_named_faq_sources_are_the_projects_shared_documents(key: str) -> None:
    assert _read(NAMED_SOURCES[key]).strip()


def test_every_faq_source_is_a_shared_document_or_a_public_url(kb: KnowledgeBase) -> None:
    odd = {
        key: source
        for key, entry in kb.faq.items()
        for source in entry.sources
        if source not in NAMED_SOURCES and not _URL.fullmatch(source)
    }
    assert odd == {}


def test_faq_questions_are_distinct(kb: KnowledgeBase) -> None:
    questions = [entry.question for entry in kb.faq.values()]
    assert len(set(questions)) == len(questions)


def test_a_faq_entry_loads_without_sources_as_none(tmp_path: Path) -> None:
    (tmp_path / "faq.yml").write_text(
        yaml.safe_dump({"faq": {"x": {"question": "问？", "answer": "答。"}}}, allow_unicode=True), encoding="utf-8"
    )
    assert KnowledgeBase.load(tmp_path).faq["x"].sources == ()


# --- messages -----------------------------------------------------------------------

def longest_reason(kb: KnowledgeBase) -> str:
    """The longest reason any message may be given: the worst case for the length limit."""
    candidates = [kb.number_reason(code, "2026012345678") for code in kb.number_reasons]
    candidates += list(raw_section("messages.yml", "no_ip_reasons").values())
    candidates += ["网站名称不符合要求", "云托管资源包已过期"]
    return max(candidates, key=len)


def plausible_values(kb: KnowledgeBase) -> dict[str, object]:
    titles = list(kb.intent_titles.values())[:3]
    return {
        "env_id": "env-demo-noservice",
        "ip": "203.0.113.10、203.0.113.11",
        "used": 4,
        "total": 4,
        "remaining": 0,
        "minutes_left": 10,
        "reason": longest_reason(kb),
        "order_id": "BA-DEMO-0001",
        "scenario_name": max((s.name for s in kb.scenarios.values()), key=len),
        "updated_at": "2026-11-12 16:00",
        "numbers": "粤ICP备2026012345号、粤ICP备2026012345号-1",
        "number": "粤ICP备2026012345号-12",
        "province": "内蒙古自治区",
        "serial": "2026012345",
        "site_seq": "12",
        "options": "\n".join(f"{i}. {t}" for i, t in enumerate(titles, 1)),
        "max_chars": 500,
        "name": max((s.name for s in kb.scenarios.values()), key=len),
        "what": "说明",
        "applies_when": "适用情形",
        "next_step": "下一步",
        "url": "https://cloud.tencent.com/document/product/243/37405",
        "account_id": "acct-0123456789abcdef",
    }


def test_every_message_renders_with_plausible_values_and_fits_a_chat_reply(kb: KnowledgeBase) -> None:
    values = plausible_values(kb)
    for key, template in kb.messages.items():
        needed = set(_PLACEHOLDER.findall(template))
        assert needed <= set(values), f"message {key} needs a plausible value for {needed - set(values)}"

        text = kb.message(key, **{name: values[name] for name in needed})

        assert_fit_for_chat(text, f"message {key}")


def test_message_without_its_value_raises(kb: KnowledgeBase) -> None:
    with pytest.raises(KnowledgeError, match="env_id"):
        kb.message("environment_not_found")


def test_every_number_reason_renders_within_the_limit(kb: KnowledgeBase) -> None:
    for code in kb.number_reasons:
        assert_fit_for_chat(kb.number_reason(code, "2026012345678"), f"number reason {code}")


# --- links ------------------------------------------------------------------------

def test_every_link_url_appears_in_the_seed_document(kb: KnowledgeBase, seed_text: str) -> None:
    missing = {key: link.url for key, link in kb.links.items() if link.url not in seed_text}

    assert missing == {}


def test_every_link_used_in_the_texts_is_defined(kb: KnowledgeBase) -> None:
    texts = [*kb.answers.values(), *kb.messages.values(), *(f.answer for f in kb.faq.values())]
    used = {name for text in texts for name in re.findall(r"\{link:([A-Za-z0-9_]+)\}", text)}
    used |= {s.link for s in kb.scenarios.values()}

    assert used - set(kb.links) == set()


def test_every_satisfaction_text_renders_short_and_the_ratings_are_the_three_buttons(kb: KnowledgeBase) -> None:
    from bot.feedback.ratings import RATINGS, read_rating

    values = {"ticket_id": "TK-20261201-0001", "reason": "回答太笼统了" * 10}
    for key, template in kb.satisfaction_messages.items():
        if isinstance(template, str):
            needed = set(_PLACEHOLDER.findall(template))
            assert_fit_for_chat(kb.satisfaction(key, **{name: values[name] for name in needed}), f"satisfaction {key}")
    buttons = kb.satisfaction_buttons("rating_buttons")
    # Each button reads as its rating, in the order 1 / 2 / 3 stand for.
    assert [read_rating(title).value for title in buttons] == list(RATINGS)
    assert all(kb.satisfaction(f"thanks_{rating}") for rating in RATINGS)
