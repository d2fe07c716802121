"""Figures of the trained NLU on the holdout sets (`make holdout` prints them).

Per set: intent accuracy, the fallback rate on in-scope messages, out-of-scope precision and
recall, FAQ answer selection and the top confusion pairs. The near-duplicate filter that keeps
the holdouts apart from the training data (bot/learning/near_duplicates.py) is re-exported
here, so the tests, the figures and `make export-training` agree on what "never trained on" means.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This checkout's code, not whichever one the environment's editable install points at (a worktree).
sys.path.insert(0, str(ROOT))

from bot.learning.near_duplicates import NEAR_DUPLICATE, char_ngrams, near_duplicates, normalized, similarity  # noqa: F401

MODEL = ROOT / "models" / "filing-assistant.tar.gz"
TRAINING = ROOT / "data" / "nlu"
HOLDOUTS = {
    "holdout": ROOT / "tests" / "nlu" / "holdout.yml",
    "realistic": ROOT / "tests" / "nlu" / "realistic.yml",
    # Written before the tuning of 2026-12-01 looked at any miss, never tuned against.
    "fresh": ROOT / "tests" / "nlu" / "fresh.yml",
    # Bare keywords and short fragments (资料, 进度, 多少钱), written before any such training line.
    "keywords": ROOT / "tests" / "nlu" / "keywords.yml",
}
# Either outcome is right for a message outside the assistant's scope.
OUT_OF_SCOPE = {"out_of_scope", "nlu_fallback"}
FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    response_key: str | None = None  # "faq/duration" for a FAQ question with a known answer


def load_examples(path: Path) -> list[Example]:
    """The intent examples of a Rasa NLU file or folder."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [Example(m.get("text"), m.get("intent"), m.get("intent_response_key")) for m in data.intent_examples]


def is_correct(gold: str, predicted: str) -> bool:
    return predicted in OUT_OF_SCOPE if gold == "out_of_scope" else predicted == gold


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Scores:
    n: int
    accuracy: float | None
    in_scope_fallback_rate: float | None
    oos_precision: float | None
    oos_recall: float | None
    confusions: list[tuple[tuple[str, str], int]]
    faq_answers: tuple[int, int] = (0, 0)  # (right, wrong) among FAQ questions predicted as faq
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (gold, predicted, text)


def score(examples: list[Example], predicted: list[str], answers: list[str | None] | None = None) -> Scores:
    """The figures for gold examples against predicted intents (and chosen FAQ answers)."""
    answers = answers if answers is not None else [None] * len(examples)
    misses = [(e.intent, p, e.text) for e, p in zip(examples, predicted) if not is_correct(e.intent, p)]
    in_scope = [p for e, p in zip(examples, predicted) if e.intent != "out_of_scope"]
    flagged = [e.intent == "out_of_scope" for e, p in zip(examples, predicted) if p in OUT_OF_SCOPE]
    gold_oos = sum(e.intent == "out_of_scope" for e in examples)
    faq = [(e.response_key, a) for e, p, a in zip(examples, predicted, answers) if e.response_key and p == "faq"]
    return Scores(
        n=len(examples),
        accuracy=_ratio(len(examples) - len(misses), len(examples)),
        in_scope_fallback_rate=_ratio(in_scope.count(FALLBACK), len(in_scope)),
        oos_precision=_ratio(sum(flagged), len(flagged)),
        oos_recall=_ratio(sum(flagged), gold_oos),
        confusions=Counter((gold, p) for gold, p, _ in misses).most_common(),
        faq_answers=(sum(k == a for k, a in faq), sum(k != a for k, a in faq)),
        misses=misses,
    )


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def render(name: str, scores: Scores, top: int = 10, show_misses: bool = False) -> str:
    """A plain-text block of one set's figures."""
    right, wrong = scores.faq_answers
    lines = [
        f"== {name} (n={scores.n})",
        f"intent accuracy            {_figure(scores.accuracy)}",
        f"in-scope fallback rate     {_figure(scores.in_scope_fallback_rate)}",
        f"out-of-scope precision     {_figure(scores.oos_precision)}",
        f"out-of-scope recall        {_figure(scores.oos_recall)}",
        f"faq answers right / wrong  {right} / {wrong}",
        "top confusions (gold -> predicted):",
    ]
    lines += [f"  {count:3d}  {gold} -> {predicted}" for (gold, predicted), count in scores.confusions[:top]]
    if show_misses:
        lines.append("misses:")
        lines += [f"  {gold} -> {predicted}: {text}" for gold, predicted, text in scores.misses]
    return "\n".join(lines)


async def _parse_all(model: Path, sets: dict[str, list[Example]]) -> dict[str, list[dict]]:
    import jieba
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # One debug line per parsed message (and jieba's start-up notes) would bury the figures.
    configure_structlog(logging.WARNING)
    jieba.setLogLevel(logging.WARNING)
    agent = Agent.load(str(model))  # once for every set: loading costs seconds
    parsed: dict[str, list[dict]] = {}
    for name, examples in sets.items():
        parsed[name] = [await agent.parse_message(e.text) for e in examples]
    return parsed


def _chosen_answer(parsed: dict) -> str | None:
    selector = parsed.get("response_selector", {}).get("faq", {})
    return selector.get("response", {}).get("intent_response_key")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every misclassified message")
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args()
    sets = {name: load_examples(path) for name, path in HOLDOUTS.items()}
    parsed = asyncio.run(_parse_all(args.model, sets))
    for name, examples in sets.items():
        predicted = [p["intent"]["name"] for p in parsed[name]]
        answers = [_chosen_answer(p) for p in parsed[name]]
        print(render(name, score(examples, predicted, answers), show_misses=args.misses), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
