"""What the WeChat load test and the soak count: each message's answers, from the platform's side and the tracker store's.

A message is answered when a delivery got a passive reply or the send API received a message for
it within ANSWER_WITHIN. Send-API messages carry no MsgId, so `attribute` gives each to the
message whose turn wrote its text (read from the tracker store by `tracker_figures`).
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from scripts.fake_wechat_platform import Call

ANSWER_WITHIN = 30.0  # seconds: an answer later than this counts as lost


@dataclass
class Sent:
    """One message a simulated user sent, with what the platform saw of it."""

    openid: str
    msg_id: str
    text: str
    at: float
    deliveries: int = 0
    hung_up: int = 0
    passive_at: float | None = None
    passive_text: str | None = None
    api: list[tuple[float, str]] = field(default_factory=list)


class SendLog:
    """What the fake send API received, stamped on arrival (the platform's threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_user: dict[str, list[tuple[float, str]]] = defaultdict(list)

    def __call__(self, call: Call) -> None:
        with self.lock:
            self.by_user[call.body.get("touser", "")].append((time.monotonic(), call.body["text"]["content"]))


def tracker_figures(url: str, log: list[Sent]) -> tuple[Counter, dict[str, list[str]], int]:
    """Turns per MsgId (over the messages of `log`), the bot texts after each MsgId's turn, and
    interleaved turns (a user event before the previous turn of that sender reached action_listen)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, future=True)
    turns: Counter = Counter()
    replies: dict[str, list[str]] = defaultdict(list)
    interleaved = 0
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT sender_id, type_name, action_name, data FROM events WHERE sender_id LIKE 'wechat:%' ORDER BY id"))
        current: dict[str, str] = {}
        listening: dict[str, bool] = {}
        for sender, kind, action, data in rows:
            event = json.loads(data)
            if kind == "user":
                if not listening.get(sender, True):
                    interleaved += 1
                listening[sender] = False
                if event.get("message_id"):
                    turns[event["message_id"]] += 1
                    current[sender] = event["message_id"]
                    replies[event["message_id"]] = []
            elif kind == "action" and action == "action_listen":
                listening[sender] = True
            elif kind == "bot" and event.get("text") and sender in current:
                replies[current[sender]].append(event["text"])
    engine.dispose()
    return Counter(turns.get(s.msg_id, 0) for s in log), replies, interleaved


def _prefixes(sent: Sent, replies: dict[str, list[str]]) -> list[str]:
    return [t.strip()[:30] for t in replies.get(sent.msg_id, []) if t.strip()]


def attribute(log: list[Sent], sends: SendLog, replies: dict[str, list[str]]) -> int:
    """Give each send-API message to the message whose turn wrote it and has not had that text yet
    (users ask the same thing again, and a turn's messages come passively and through the API);
    returns how many matched no message."""
    by_user: dict[str, list[Sent]] = defaultdict(list)
    for sent in log:
        by_user[sent.openid].append(sent)

    def has(sent: Sent, prefix: str) -> bool:
        return bool(sent.passive_text and prefix in sent.passive_text) or any(prefix in c for _, c in sent.api)

    unmatched = 0
    for openid, received in sends.by_user.items():
        for at, content in sorted(received):
            earlier = [s for s in by_user.get(openid, []) if s.at <= at]
            wrote = [s for s in earlier if any(p in content for p in _prefixes(s, replies))]
            # The oldest message that wrote the text is not enough: an earlier question asked again
            # would get its answer a second time (and count as answered twice).
            fresh = [s for s in wrote if any(p in content and not has(s, p) for p in _prefixes(s, replies))]
            unanswered = [s for s in earlier if s.passive_at is None and not s.api]
            target = (fresh or wrote or unanswered or [None])[0]
            if target is None:
                unmatched += 1
            else:
                target.api.append((at, content))
    return unmatched


def repeats(sent: Sent, replies: dict[str, list[str]]) -> bool:
    """Whether one bot text reached the user twice (the rest of a long turn through the API is not a repeat)."""
    delivered = ([sent.passive_text] if sent.passive_text else []) + [content for _, content in sent.api]
    texts = _prefixes(sent, replies) or delivered
    return any(sum(text in content for content in delivered) > 1 for text in texts)


@dataclass
class Answers:
    """The messages of a run by how they were answered; the MsgIds of the lost and the twice answered."""

    passive: int = 0
    via_api: int = 0
    lost: int = 0
    late: int = 0  # of the lost: answered, but after ANSWER_WITHIN
    twice: int = 0
    waits: list[float] = field(default_factory=list)  # seconds to the first answer, sorted
    lost_ids: list[str] = field(default_factory=list)
    twice_ids: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        return self.waits[min(len(self.waits) - 1, int(q * len(self.waits)))] if self.waits else float("nan")


def answers(log: list[Sent], replies: dict[str, list[str]]) -> Answers:
    """How each message of `log` was answered (after `attribute`)."""
    out = Answers()
    for sent in log:
        times = [t for t in ([sent.passive_at] if sent.passive_at else []) + [at for at, _ in sent.api]
                 if t - sent.at <= ANSWER_WITHIN]
        if not times:
            out.lost += 1
            out.late += bool(sent.passive_at or sent.api)
            out.lost_ids.append(sent.msg_id)
            continue
        out.passive += sent.passive_at is not None
        out.via_api += sent.passive_at is None
        if len(sent.api) + (sent.passive_at is not None) > 1 and repeats(sent, replies):
            out.twice += 1
            out.twice_ids.append(sent.msg_id)
        out.waits.append(min(times) - sent.at)
    out.waits.sort()
    return out
