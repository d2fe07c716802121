"""The intent model's text preparation and its probability bookkeeping (bot/nlu/intent_model.py)."""
from __future__ import annotations

import numpy as np
import pytest

from bot.nlu.intent_model import IntentModel, Prediction, lexical_text


@pytest.mark.parametrize(
    "text, stand_in",
    [
        ("京ICP备11018762号-1 是真的吗", "备案号码"),
        ("env-demo-full 还能备案吗", "环境编号"),
        ("BA-DEMO-0002 进度", "订单编号"),
        ("TK-20261101-0001 怎么样了", "工单编号"),
        ("example.com 要备案吗", "域名"),
    ],
)
def test_ids_become_the_word_for_their_kind(text, stand_in):
    assert stand_in in lexical_text(text)


def test_traditional_and_full_width_text_is_folded():
    assert lexical_text("備案ＩＣＰ") == "备案icp"


def test_the_faq_probability_is_the_sum_of_its_answers_and_answers_are_conditional():
    prediction = Prediction([("faq/duration", 0.3), ("greet", 0.4), ("faq/subdomain", 0.2), ("thank", 0.1)], True)
    assert prediction.intents()[0] == ("faq", pytest.approx(0.5))
    assert prediction.answers("faq") == [("faq/duration", pytest.approx(0.6)), ("faq/subdomain", pytest.approx(0.4))]


def recording_embedder():
    """A constant embedding that records which texts it was asked to embed."""
    embedded: list[str] = []

    def embed(batch):
        embedded.extend(batch)
        return np.ones((len(batch), 4), dtype=np.float32) / 2

    return embed, embedded


def test_only_unsure_messages_are_embedded():
    texts = ["备案要多久", "备案审核几天", "个人能备案吗", "个人网站可以备案吗", "你好", "您好啊"]
    labels = ["faq/duration", "faq/duration", "faq/personal_filing", "faq/personal_filing", "greet", "greet"]
    embed, embedded = recording_embedder()

    config = dict(min_ngram=1, max_ngram=3, lexical_c=100, combined_c=100, embedding_weight=1.0, cascade_threshold=0.7)
    model = IntentModel.train(texts, labels, embed, config)
    embedded.clear()
    sure, unsure = model.predict(["你好", "qwerty"], embed)
    assert sure.intents()[0][0] == "greet" and not sure.embedded
    assert unsure.embedded and embedded == ["qwerty"]


def test_a_model_saved_and_loaded_scores_column_major_with_the_same_probabilities(tmp_path):
    import joblib
    from sklearn.linear_model import LogisticRegression

    texts = ["备案要多久", "备案审核几天", "个人能备案吗", "个人网站可以备案吗", "你好", "您好啊", "谢谢", "多谢帮忙"]
    labels = ["faq/duration", "faq/duration", "faq/personal_filing", "faq/personal_filing", "greet", "greet",
              "thank", "thank"]
    model = IntentModel.train(texts, labels, lambda batch: np.ones((len(batch), 4)), {
        "min_ngram": 1, "max_ngram": 3, "lexical_c": 10.0, "combined_c": 10.0, "embedding_weight": 1.0,
        "cascade_threshold": 0.0,
    })
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    assert loaded.lexical.coef_.flags["F_CONTIGUOUS"] and loaded.combined.coef_.flags["F_CONTIGUOUS"]
    # The reference: a classifier with the same coefficients in scikit-learn's own row-major order.
    reference = LogisticRegression()
    reference.__dict__.update(loaded.lexical.__dict__)
    reference.coef_ = np.ascontiguousarray(loaded.lexical.coef_)
    grams = loaded.vectorizer.transform(["个人备案要多久", "你好谢谢", "今天天气"])
    assert np.array_equal(loaded.lexical.predict_proba(grams), reference.predict_proba(grams))


def test_a_sure_faq_whose_answers_are_split_is_embedded_when_the_cascade_looks_at_the_label():
    """`faq` summed over its answers can be sure while no answer is: the FAQ gate would fall back."""
    texts = ["备案要多久", "备案审核几天", "备案多久能好", "备案审核多长时间", "你好", "您好啊"]
    labels = ["faq/duration", "faq/review_schedule", "faq/duration", "faq/review_schedule", "greet", "greet"]
    embed, embedded = recording_embedder()

    config = dict(min_ngram=1, max_ngram=3, lexical_c=1, combined_c=1, embedding_weight=1.0, cascade_threshold=0.6)
    model = IntentModel.train(texts, labels, embed, config)
    (by_intent,) = model.predict(["备案审核"], embed)
    assert by_intent.intents()[0][0] == "faq" and by_intent.intents()[0][1] >= 0.6
    assert by_intent.labels[0][1] < 0.6 and not by_intent.embedded
    embedded.clear()
    model.config = {**config, "cascade_on_label": True}
    (by_label,) = model.predict(["备案审核"], embed)
    assert by_label.embedded and embedded == ["备案审核"]
