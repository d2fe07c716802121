"""A fast inner loop for NLU experiments: the intent model fitted in-process, no `rasa train`.

It trains bot.nlu.intent_model.IntentModel on data/nlu with the classifier's config from
config.yml (overridable: `--set cascade_threshold=0.4`), applies the FallbackClassifier
threshold and the FAQ gate as config.yml sets them, and prints the figures of
scripts/nlu_report.py for the holdouts named (default: holdout, realistic). Embeddings are
cached by text in var/nlu_embeddings.npz, so a run after the first costs seconds. The figures
agree with `make holdout` up to the entity extractor (which does not touch the intent);
quote `make holdout` on the real model.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import joblib
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu import sentence_embedder  # noqa: E402
from bot.nlu.confidence_gates import FaqConfidenceGate  # noqa: E402
from bot.nlu.input_quality import input_issue  # noqa: E402
from bot.nlu.intent_classifier import CascadeIntentClassifier  # noqa: E402
from bot.nlu.intent_model import IntentModel  # noqa: E402
from scripts.nlu_report import HOLDOUTS, TRAINING, load_examples, render, score  # noqa: E402

CACHE = ROOT / "var" / "nlu_embeddings.npz"


class CachedEmbed:
    """sentence_embedder.embed with a persistent cache; counts what was asked of it."""

    def __init__(self) -> None:
        self.cache: dict[str, np.ndarray] = {}
        if CACHE.exists():
            stored = np.load(CACHE, allow_pickle=True)
            self.cache = dict(zip(stored["texts"].tolist(), stored["vectors"]))
        self.dirty = False

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            for text, vector in zip(missing, sentence_embedder.embed(missing)):
                self.cache[text] = vector
            self.dirty = True
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def save(self) -> None:
        if self.dirty:
            CACHE.parent.mkdir(exist_ok=True)
            np.savez(CACHE, texts=np.array(list(self.cache), dtype=object), vectors=np.stack(list(self.cache.values())))


def pipeline_config() -> dict:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    return {entry["name"].rsplit(".", 1)[-1]: entry for entry in config["pipeline"]}


def _value(raw: str):
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def final_intent(prediction, fallback_threshold: float, gate: FaqConfidenceGate, text: str) -> tuple[str, str | None]:
    intents = prediction.intents()
    name, confidence = intents[0]
    answers = prediction.answers("faq")
    answer = answers[0][0] if answers else None
    if confidence < fallback_threshold or input_issue(text) is not None:
        return "nlu_fallback", answer
    if name == "faq":
        selection = {"response": {"confidence": answers[0][1]}, "ranking": [{"confidence": p} for _, p in answers]}
        if not gate._stands(selection)[0]:
            return "nlu_fallback", answer
    return name, answer


def explained(prediction, answers: int) -> str:
    """`[E|L] top intents | top FAQ answers`: embedded or lexical, and what the model weighed."""
    def top(pairs):
        return ", ".join(f"{name} {p:.2f}" for name, p in pairs)
    kind = "E" if prediction.embedded else "L"
    return f"[{kind}] {top(prediction.intents()[:3])} | {top(prediction.answers('faq')[:answers])}"


# Options read only when predicting: changing them needs no new fit.
PREDICT_ONLY = ("cascade_threshold", "cascade_on_label")


def fitted(training, embed, config: dict) -> IntentModel:
    """The model for this data and these fit options, from var/ when fitted before."""
    key = hashlib.sha256(
        repr(([(e.text, e.response_key or e.intent) for e in training],
              sorted((k, v) for k, v in config.items() if k not in PREDICT_ONLY))).encode()
    ).hexdigest()[:16]
    path = CACHE.parent / f"nlu_model_{key}.joblib"
    if path.exists():
        model = joblib.load(path)
    else:
        model = IntentModel.train([e.text for e in training], [e.response_key or e.intent for e in training], embed, config)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, path)
    model.config = config
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], help="classifier option KEY=VALUE")
    parser.add_argument("--fallback", type=float, help="FallbackClassifier threshold (default: config.yml)")
    parser.add_argument("--sets", default="holdout,realistic")
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--explain", action="store_true", help="the top intents of every miss")
    parser.add_argument("--text", action="append", default=[], help="also print the top intents of this message")
    args = parser.parse_args()

    stages = pipeline_config()
    config = {**CascadeIntentClassifier.get_default_config(), **stages["CascadeIntentClassifier"]}
    config.pop("name")
    config.update({key: _value(raw) for key, raw in (item.split("=", 1) for item in args.set)})
    fallback = args.fallback if args.fallback is not None else stages["FallbackClassifier"]["threshold"]
    gate = FaqConfidenceGate({k: v for k, v in stages["FaqConfidenceGate"].items() if k != "name"})

    embed = CachedEmbed()
    training = load_examples(TRAINING)
    model = fitted(training, embed, config)
    embed.save()  # the training texts' embeddings are the slow part: kept even if a set below fails
    for name in args.sets.split(","):
        examples = load_examples(HOLDOUTS[name])
        predictions = model.predict([e.text for e in examples], embed)
        finals = [final_intent(p, fallback, gate, e.text) for p, e in zip(predictions, examples)]
        scores = score(examples, [f[0] for f in finals], [f[1] for f in finals])
        print(render(name, scores, show_misses=args.misses))
        print(f"embedded share             {sum(p.embedded for p in predictions) / len(predictions):.3f}")
        if args.explain:
            for e, p, (final, _) in zip(examples, predictions, finals):
                if final != (e.response_key and e.intent or e.intent) and not (e.intent == "out_of_scope" and final == "nlu_fallback"):
                    print(f"  {e.intent} -> {final} {explained(p, answers=2)}: {e.text}")
    for text, p in zip(args.text, model.predict(args.text, embed) if args.text else []):
        final, answer = final_intent(p, fallback, gate, text)
        print(f"{final} ({answer}) {explained(p, answers=3)}: {text}")
    embed.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
