"""The intent model: logistic regression on character n-grams, and on n-grams + e5 embeddings.

Plain scikit-learn, no Rasa, so scripts can train and score it directly. Labels are the
intents, with the FAQ split into its answers ("faq/duration"): one classifier then gives both
the intent (the FAQ's probability is the sum over its answers) and the chosen answer.

A cascade keeps the cost down: the lexical model answers alone when it is sure; only an
unsure message is embedded (tens of ms for a long one) and scored by the combined model.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlu.text_normalization import normalize_for_nlu

Embed = Callable[[list[str]], np.ndarray]
RETRIEVAL_SEPARATOR = "/"

# Ids and numbers say what kind of thing the user names, not which one: one stand-in word
# per kind lets every example teach the kind (the spellings follow bot/nlu/entity_rules.py).
_PROVINCES = "京津沪渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川蜀黔贵滇云藏陕甘陇青宁新"
_STAND_INS = [
    (re.compile(rf"[{_PROVINCES}]\s*icp\s*[备证]\s*\d*\s*号?(?:\s*-\s*\d+)?"), " 备案号码 "),
    (re.compile(rf"[{_PROVINCES}]\s*b[12]\s*-\s*\d{{8}}"), " 许可证号码 "),
    (re.compile(r"公网安备\s*\d{6,}号?"), " 公安备案号码 "),
    (re.compile(r"env-[a-z0-9-]+"), " 环境编号 "),
    (re.compile(r"ba-(?:demo|\d{8})-\d{4}"), " 订单编号 "),
    (re.compile(r"tk-\d{8}-\d{4}"), " 工单编号 "),
    (re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|top|xyz|site|shop|vip|tech|info|io)\b"), " 域名 "),
]


def lexical_text(text: str) -> str:
    """Normalised text (Simplified, half-width, lower case) with ids replaced by their kind."""
    folded = normalize_for_nlu(text or "")
    for pattern, stand_in in _STAND_INS:
        folded = pattern.sub(stand_in, folded)
    return folded


def intent_of(label: str) -> str:
    """"faq/duration" -> "faq"; other labels are intents already."""
    return label.split(RETRIEVAL_SEPARATOR, 1)[0]


@dataclass(frozen=True)
class Prediction:
    labels: list[tuple[str, float]]  # every label (FAQ answers apart), most probable first
    embedded: bool  # whether the combined model decided

    def intents(self) -> list[tuple[str, float]]:
        """Intent probabilities, the FAQ's answers summed, most probable first."""
        summed: dict[str, float] = {}
        for label, p in self.labels:
            summed[intent_of(label)] = summed.get(intent_of(label), 0.0) + p
        return sorted(summed.items(), key=lambda kv: -kv[1])

    def answers(self, retrieval_intent: str) -> list[tuple[str, float]]:
        """The retrieval intent's answers with their probability given that intent."""
        own = [(label, p) for label, p in self.labels if intent_of(label) == retrieval_intent and label != retrieval_intent]
        total = sum(p for _, p in own) or 1.0
        return [(label, p / total) for label, p in own]


class IntentModel:
    """Trained lexical and combined classifiers over the same labels."""

    def __init__(self, config: dict, vectorizer, lexical, combined) -> None:
        self.config = config
        self.vectorizer = vectorizer
        self.lexical = _fast_scoring(lexical)
        self.combined = _fast_scoring(combined)

    def __setstate__(self, state: dict) -> None:  # a model loaded by joblib skips __init__
        self.__dict__.update(state)
        self.lexical, self.combined = _fast_scoring(self.lexical), _fast_scoring(self.combined)

    @classmethod
    def train(cls, texts: list[str], labels: list[str], embed: Embed, config: dict) -> "IntentModel":
        vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(config["min_ngram"], config["max_ngram"]),
            sublinear_tf=True,
            preprocessor=lexical_text,
        )
        grams = vectorizer.fit_transform(texts)
        lexical = LogisticRegression(C=config["lexical_c"], max_iter=5000).fit(grams, labels)
        combined = LogisticRegression(C=config["combined_c"], max_iter=5000).fit(
            cls._joined(grams, embed(texts), config), labels
        )
        return cls(config, vectorizer, lexical, combined)

    @staticmethod
    def _joined(grams, vectors: np.ndarray, config: dict):
        return hstack([grams, csr_matrix(vectors * config["embedding_weight"])]).tocsr()

    def predict(self, texts: list[str], embed: Embed) -> list[Prediction]:
        grams = self.vectorizer.transform(texts)
        lexical = self.lexical.predict_proba(grams)
        predictions: list[Prediction | None] = [None] * len(texts)
        unsure = []
        for i, row in enumerate(lexical):
            first = Prediction(self._ranked(self.lexical.classes_, row), embedded=False)
            if self._sure(first):
                predictions[i] = first
            else:
                unsure.append(i)
        if unsure:
            joined = self._joined(grams[unsure], embed([texts[i] for i in unsure]), self.config)
            for i, row in zip(unsure, self.combined.predict_proba(joined)):
                predictions[i] = Prediction(self._ranked(self.combined.classes_, row), embedded=True)
        return predictions  # type: ignore[return-value]

    def _sure(self, prediction: Prediction) -> bool:
        """Whether the lexical model may decide alone: its top intent, and its top label, are sure.

        The label matters for the FAQ: `faq` can be sure (its answers summed) while no single
        answer is, and the FAQ gate would then fall back on an in-scope question.
        """
        threshold = self.config["cascade_threshold"]
        if prediction.intents()[0][1] < threshold:
            return False
        return not self.config.get("cascade_on_label") or prediction.labels[0][1] >= threshold

    @staticmethod
    def _ranked(classes, row) -> list[tuple[str, float]]:
        order = np.argsort(-row)
        return [(str(classes[j]), float(row[j])) for j in order]


def _fast_scoring(classifier: LogisticRegression) -> LogisticRegression:
    """The classifier with its coefficients in column-major order: the same probabilities, bit for bit.

    scikit-learn scores sparse n-grams as `X @ coef_.T`; with row-major coefficients that transpose
    is not contiguous, and SciPy copies the whole (labels x n-grams) matrix for every message:
    15.6 ms of a message's CPU against 0.12 ms without the copy (a profile of the server under load
    had it at 18 % of the Rasa process).
    """
    classifier.coef_ = np.asfortranarray(classifier.coef_)
    return classifier
