"""The real spaCy + jieba finder and the Rasa component on real Messages."""

from pathlib import Path
from typing import Any

import jieba
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.entity_extractor import FilingEntityExtractor
from bot.nlu.entity_rules import FilingEntityFinder, build_pipeline


@pytest.fixture(scope="module")
def finder() -> FilingEntityFinder:
    return FilingEntityFinder()


def found(finder: FilingEntityFinder, text: str) -> list[tuple[str, str, str]]:
    """(entity, value, original slice) for each entity, checking offsets on the way."""
    result = []
    for entity in finder.extract(text):
        assert 0 <= entity["start"] < entity["end"] <= len(text)
        assert entity["confidence_entity"] == 1.0
        assert entity["extractor"] == "FilingEntityExtractor"
        result.append((entity["entity"], entity["value"], text[entity["start"]:entity["end"]]))
    return result


def entity_types(finder: FilingEntityFinder, text: str) -> list[str]:
    return [entity for entity, _, _ in found(finder, text)]


# --- each entity type ------------------------------------------------------------

def test_website_number_in_a_question_is_an_icp_number(finder: FilingEntityFinder) -> None:
    text = "我的网站备案号是京ICP备11018762号-1，能直接用吗"
    assert found(finder, text) == [("icp_number", "京ICP备11018762号-1", "京ICP备11018762号-1")]


def test_full_width_spaced_number_keeps_original_span_and_normalized_value(
    finder: FilingEntityFinder,
) -> None:
    text = "备案号 粵 ＩＣＰ 備 ２０２１０１２３４５ 號－２ 查不到"
    assert found(finder, text) == [
        ("icp_number", "粤ICP备2021012345号-2", "粵 ＩＣＰ 備 ２０２１０１２３４５ 號－２")
    ]


def test_invalid_looking_number_is_still_extracted_normalized(finder: FilingEntityFinder) -> None:
    text = "备案号是京icp备11018762-1吗"
    assert found(finder, text) == [("icp_number", "京ICP备11018762-1", "京icp备11018762-1")]


def test_licence_and_public_security_numbers_are_icp_numbers(finder: FilingEntityFinder) -> None:
    text = "我们有粤B2-20090059，也办了京公网安备11000002000001号"
    assert [value for _, value, _ in found(finder, text)] == [
        "粤B2-20090059",
        "京公网安备11000002000001号",
    ]


def test_province_inside_a_number_is_not_a_separate_province(finder: FilingEntityFinder) -> None:
    assert entity_types(finder, "广东的备案号粤ICP备2020012345号") == ["province", "icp_number"]


@pytest.mark.parametrize(
    ("text", "province"),
    [
        ("我是广东省的公司", "广东"),
        ("人在内蒙古自治区，备案要什么材料", "内蒙古"),
        ("广西壮族自治区的管局审核多久", "广西"),
        ("我在廣東，要準備什麼", "广东"),
        ("浙江的管局是不是比较慢", "浙江"),
        ("新疆的个人能备案吗", "新疆"),
    ],
)
def test_province_names_and_variants_map_to_the_canonical_name(
    finder: FilingEntityFinder, text: str, province: str
) -> None:
    assert [(e, v) for e, v, _ in found(finder, text)] == [("province", province)]


@pytest.mark.parametrize(
    ("text", "provider", "surface"),
    [
        ("我之前在阿里云备过案", "阿里云", "阿里云"),
        ("域名是在万网买的", "阿里云", "万网"),
        ("原来的备案在aliyun上", "阿里云", "aliyun"),
        ("之前是在阿里备的案", "阿里云", "阿里"),
        ("我在腾讯云备过", "腾讯云", "腾讯云"),
        ("从华为云迁过来要接入备案吗", "华为云", "华为云"),
        ("百度云上的备案怎么转", "百度智能云", "百度云"),
        ("之前用中国移动云", "移动云", "中国移动云"),
        ("UCloud的备案号能用吗", "UCloud", "UCloud"),
        ("以前在优刻得备案", "UCloud", "优刻得"),
        ("服务器在AWS上", "AWS", "AWS"),
        ("用的是亚马逊云", "AWS", "亚马逊云"),
        ("域名解析在Cloudflare", "Cloudflare", "Cloudflare"),
        ("Google Cloud 的服务器要备案吗", "Google Cloud", "Google Cloud"),
        ("在西部数码买的域名", "西部数码", "西部数码"),
        ("火山引擎备过案", "火山引擎", "火山引擎"),
    ],
)
def test_cloud_providers_map_to_a_canonical_name(
    finder: FilingEntityFinder, text: str, provider: str, surface: str
) -> None:
    assert found(finder, text) == [("cloud_provider", provider, surface)]


@pytest.mark.parametrize(
    ("text", "domain", "surface"),
    [
        ("我的域名是example.com", "example.com", "example.com"),
        ("www.Example.COM 打不开", "www.example.com", "www.Example.COM"),
        ("子域名 api.shop.example.cn 要单独备案吗", "api.shop.example.cn", "api.shop.example.cn"),
        ("域名 example.com.cn 呢", "example.com.cn", "example.com.cn"),
        ("访问 https://blog.example.cn/post/1 被拦截了", "blog.example.cn", "blog.example.cn"),
        ("我的域名是例子.中国，可以备案吗", "例子.中国", "例子.中国"),
        ("域名ｅｘａｍｐｌｅ．ｃｏｍ", "example.com", "ｅｘａｍｐｌｅ．ｃｏｍ"),
    ],
)
def test_domains_are_lower_cased(
    finder: FilingEntityFinder, text: str, domain: str, surface: str
) -> None:
    assert found(finder, text) == [("domain", domain, surface)]


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ("我的环境ID是env-demo-ok", "env-demo-ok"),
        ("环境ｅｎｖ－ｄｅｍｏ－ｏｋ还能备案几次", "env-demo-ok"),
        ("环境 ENV-Prod-01 查一下", "env-prod-01"),
        ("云开发环境 cloud1-4g0ujexa8b1c 的资源包", "cloud1-4g0ujexa8b1c"),
    ],
)
def test_cloudbase_environment_ids_are_lower_cased(
    finder: FilingEntityFinder, text: str, env: str
) -> None:
    assert [(e, v) for e, v, _ in found(finder, text)] == [("cloudbase_env", env)]


def test_the_auto_service_name_is_not_an_environment(finder: FilingEntityFinder) -> None:
    assert found(finder, "找不到 tcb-beian-auto 服务") == []


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("订单BA-20240315-0042到哪一步了", "order_id", "BA-20240315-0042"),
        ("订单 ba-demo-0001 被驳回了", "order_id", "BA-DEMO-0001"),
        ("订单ＢＡ－ＤＥＭＯ－０００２", "order_id", "BA-DEMO-0002"),
        ("订单号 BA - DEMO - 0003", "order_id", "BA-DEMO-0003"),
        ("工单TK-20240315-0007有回复吗", "ticket_id", "TK-20240315-0007"),
        ("工单 tk-20240315-0008", "ticket_id", "TK-20240315-0008"),
    ],
)
def test_order_and_ticket_ids_are_upper_cased(
    finder: FilingEntityFinder, text: str, entity: str, value: str
) -> None:
    assert [(e, v) for e, v, _ in found(finder, text)] == [(entity, value)]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("腾讯云云托管怎么备案", "cloud_provider", "腾讯云"),
        ("我用的是腾讯云托管", "cloud_provider", "腾讯云"),
        ("阿里云开发的小程序要备案吗", "cloud_provider", "阿里云"),
        ("公司在上海浦东", "province", "上海"),
        ("北京大学的网站", "province", "北京"),
    ],
)
def test_names_glued_to_neighbouring_words_are_still_found(
    finder: FilingEntityFinder, text: str, entity: str, value: str
) -> None:
    assert [(e, v) for e, v, _ in found(finder, text)] == [(entity, value)]


@pytest.mark.parametrize("text", ["把东西藏起来", "新网站怎么备案", "阿里巴巴集团"])
def test_province_and_provider_names_inside_other_words_are_not_matched(
    finder: FilingEntityFinder, text: str
) -> None:
    assert finder.extract(text) == []


def test_a_province_name_straddling_two_words_is_not_matched(finder: FilingEntityFinder) -> None:
    assert [(e, v) for e, v, _ in found(finder, "浙江西部的公司")] == [("province", "浙江")]


def test_building_the_finder_leaves_the_global_jieba_dictionary_alone(
    finder: FilingEntityFinder,
) -> None:
    finder.extract("之前在优刻得和西部数码备过")
    jieba.initialize()
    assert "优刻得" not in jieba.dt.FREQ
    assert "西部数码" not in jieba.dt.FREQ


# --- several at once, and things that are not entities -----------------------------

def test_a_mixed_message_yields_every_entity_in_text_order(finder: FilingEntityFinder) -> None:
    text = (
        "你好，我是廣東的，之前在阿里云备过案（粤ICP备2020012345号-1），"
        "现在想把 www.example.com 接入到环境 env-demo-ok，订单BA-DEMO-0002，工单TK-20240101-0001"
    )
    assert [(e, v) for e, v, _ in found(finder, text)] == [
        ("province", "广东"),
        ("cloud_provider", "阿里云"),
        ("icp_number", "粤ICP备2020012345号-1"),
        ("domain", "www.example.com"),
        ("cloudbase_env", "env-demo-ok"),
        ("order_id", "BA-DEMO-0002"),
        ("ticket_id", "TK-20240101-0001"),
    ]


def test_spans_never_overlap(finder: FilingEntityFinder) -> None:
    text = "aliyun.com 和 env-demo-ok.service.tcloudbase.com 还有北京市的京ICP备11018762号"
    entities = finder.extract(text)
    spans = sorted((e["start"], e["end"]) for e in entities)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert [e["entity"] for e in entities] == ["domain", "domain", "province", "icp_number"]


@pytest.mark.parametrize(
    "text",
    [
        "你好",
        "谢谢，没问题了",
        "今天天气不错，你吃饭了吗",
        "ICP备案要多久？备案号怎么查",
        "最新网站怎么备案？新网站需要先备案吗",
        "阿里巴巴的股票涨了",
        "好的😀👍",
        "rasa 3.6.21 和 python 3.10",
        "",
        "   ",
    ],
)
def test_chit_chat_has_no_entities(finder: FilingEntityFinder, text: str) -> None:
    assert finder.extract(text) == []


def test_emails_are_not_domains_or_providers(finder: FilingEntityFinder) -> None:
    assert finder.extract("联系邮箱 admin@aliyun.com 或 support@example.cn") == []


def test_file_names_are_not_domains(finder: FilingEntityFinder) -> None:
    text = "改了config.yml、main.py、README.md、app.js、index.html和data.json"
    assert finder.extract(text) == []


def test_emoji_before_an_entity_keeps_offsets_in_characters(finder: FilingEntityFinder) -> None:
    text = "😀😀 订单BA-DEMO-0002 🙏"
    assert found(finder, text) == [("order_id", "BA-DEMO-0002", "BA-DEMO-0002")]


def test_characters_whose_lower_case_is_longer_do_not_shift_offsets(
    finder: FilingEntityFinder,
) -> None:
    text = "İİ 订单BA-DEMO-0002 İ Example.COM"
    assert found(finder, text) == [
        ("order_id", "BA-DEMO-0002", "BA-DEMO-0002"),
        ("domain", "example.com", "Example.COM"),
    ]


def test_a_five_thousand_character_message_finishes_with_a_list(finder: FilingEntityFinder) -> None:
    text = ("备案需要多久？" * 700 + "京ICP备11018762号-1" + "x" * 200)[:5000]
    entities = finder.extract(text)
    assert isinstance(entities, list)
    assert [e["value"] for e in entities] == ["京ICP备11018762号-1"]


def test_the_pipeline_is_built_once_per_process() -> None:
    assert build_pipeline() is build_pipeline()
    assert build_pipeline().pipe_names == ["entity_ruler"]


# --- the Rasa component ------------------------------------------------------------

@pytest.fixture(scope="module")
def component(tmp_path_factory: pytest.TempPathFactory) -> FilingEntityExtractor:
    storage = LocalModelStorage(Path(tmp_path_factory.mktemp("model")))
    context = ExecutionContext(GraphSchema({}), "test-model")
    return FilingEntityExtractor.create({}, storage, Resource("filing_entities"), context)


def test_component_is_registered_as_an_untrainable_entity_extractor() -> None:
    registered = DefaultV1Recipe._registered_components["FilingEntityExtractor"]
    assert DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR in registered.types
    assert registered.is_trainable is False


def test_process_adds_entities_to_rasa_messages(component: FilingEntityExtractor) -> None:
    message = Message(data={TEXT: "环境env-demo-ok的备案号京ICP备11018762号-1"})
    component.process([message])
    entities: list[dict[str, Any]] = message.get(ENTITIES)
    assert [(e["entity"], e["value"]) for e in entities] == [
        ("cloudbase_env", "env-demo-ok"),
        ("icp_number", "京ICP备11018762号-1"),
    ]
    assert all(e["extractor"] == "FilingEntityExtractor" for e in entities)
    assert "entities" in message.output_properties


def test_process_keeps_entities_from_earlier_extractors(component: FilingEntityExtractor) -> None:
    earlier = {"entity": "other", "value": "x", "start": 0, "end": 1, "extractor": "Other"}
    message = Message(data={TEXT: "订单BA-DEMO-0002", ENTITIES: [earlier]})
    component.process([message])
    assert [e["entity"] for e in message.get(ENTITIES)] == ["other", "order_id"]


def test_process_leaves_messages_without_entities_with_an_empty_list(
    component: FilingEntityExtractor,
) -> None:
    messages = [Message(data={TEXT: "你好"}), Message(data={TEXT: "谢谢"})]
    assert component.process(messages) is messages
    assert [m.get(ENTITIES) for m in messages] == [[], []]


def test_process_training_data_returns_the_data_unchanged(component: FilingEntityExtractor) -> None:
    data = TrainingData([Message.build(text="订单BA-DEMO-0002", intent="order_status")])
    assert component.process_training_data(data) is data
    assert data.training_examples[0].get(ENTITIES) in (None, [])
