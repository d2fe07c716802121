"""Scraping a running server's /metrics as Prometheus does, and what moved between two scrapes."""
from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from scripts.local_servers import METRICS_TOKEN, metrics_headers

Samples = dict[tuple[str, frozenset], float]


def scrape_text(base_url: str, token: str = METRICS_TOKEN) -> str:
    response = httpx.get(f"{base_url}/metrics", headers=metrics_headers(token), timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


def samples_of(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(base_url: str, token: str = METRICS_TOKEN) -> Samples:
    return samples_of(scrape_text(base_url, token))


def in_process() -> Samples:
    """This process's own metrics (a channel or a desk run inside the test)."""
    from prometheus_client import REGISTRY, generate_latest

    return samples_of(generate_latest(REGISTRY).decode())


def key(name: str, **labels: str) -> tuple[str, frozenset]:
    return name, frozenset(labels.items())


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get(key(name, **labels), 0.0)


def _counted(name: str, labels: frozenset) -> bool:
    """A sample that counts traffic: not a creation time, a duration sum or a finite latency bucket."""
    if name.endswith("_created") or name.endswith("_sum"):
        return False
    return not name.endswith("_bucket") or dict(labels).get("le") == "+Inf"


def moved(before: Samples, after: Samples, prefix: str = "assistant_") -> dict[tuple[str, frozenset], float]:
    """Every counted sample under `prefix` whose value changed, with the change."""
    changes = {}
    for sample_key in before.keys() | after.keys():
        name, labels = sample_key
        if name.startswith(prefix) and _counted(name, labels):
            change = after.get(sample_key, 0.0) - before.get(sample_key, 0.0)
            if change:
                changes[sample_key] = change
    return changes


def turns(channel: str, count: int) -> dict[tuple[str, frozenset], float]:
    """What `count` Rasa turns on `channel` move: the message count, the histogram's count and +Inf bucket."""
    return {
        key("assistant_messages_total", channel=channel): count,
        key("assistant_turn_seconds_count", channel=channel): count,
        key("assistant_turn_seconds_bucket", channel=channel, le="+Inf"): count,
    }


def settled(read: Callable[[], Samples], done: Callable[[Samples], bool], timeout: float = 30) -> Samples:
    """Scrape until `done` holds (work finishing in the background, e.g. a send API delivery)."""
    deadline = time.monotonic() + timeout
    while True:
        samples = read()
        if done(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.2)
