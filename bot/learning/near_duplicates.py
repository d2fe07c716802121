"""When two messages are near-duplicates: Jaccard similarity of their character 3-grams.

One definition for the whole project: the holdout checks (scripts/nlu_report.py, the NLU holdout
tests) keep the holdouts apart from the training data with it, the review list groups similar
messages with it, and `make export-training` refuses labelled messages too close to a holdout.
"""
from __future__ import annotations

import re

from bot.nlu.text_normalization import normalize_for_nlu

NEAR_DUPLICATE = 0.8
NGRAM = 3
_NOT_WORDLIKE = re.compile(r"[\W_]+")


def normalized(text: str) -> str:
    """Simplified, lower-case, half-width, without spaces or punctuation."""
    return _NOT_WORDLIKE.sub("", normalize_for_nlu(text))


def char_ngrams(text: str, n: int = NGRAM) -> frozenset[str]:
    """Character n-grams of the normalised text; a shorter text is its own single gram."""
    folded = normalized(text)
    if len(folded) <= n:
        return frozenset({folded}) if folded else frozenset()
    return frozenset(folded[i : i + n] for i in range(len(folded) - n + 1))


def jaccard(grams_a: frozenset[str], grams_b: frozenset[str]) -> float:
    if not grams_a or not grams_b:
        return 0.0
    return len(grams_a & grams_b) / len(grams_a | grams_b)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' character n-grams."""
    return jaccard(char_ngrams(a), char_ngrams(b))


def near_duplicates(
    texts: list[str], training: list[str], threshold: float = NEAR_DUPLICATE
) -> list[tuple[str, str, float]]:
    """(text, its closest training example, similarity) for every text at or above the threshold."""
    training_grams = [(t, char_ngrams(t)) for t in training]
    found = []
    for text in texts:
        grams = char_ngrams(text)
        if not grams:
            continue
        best, best_score = "", 0.0
        for candidate, candidate_grams in training_grams:
            if candidate_grams:
                score = len(grams & candidate_grams) / len(grams | candidate_grams)
                if score > best_score:
                    best, best_score = candidate, score
        if best_score >= threshold:
            found.append((text, best, round(best_score, 3)))
    return found
