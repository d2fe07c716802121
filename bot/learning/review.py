"""The messages the bot did not understand, grouped for an agent's review, and the agents' verdicts.

Which user turns (of the analytics rows, bot/analytics/ingest.py; only turns whose masked text
is kept, i.e. nlu_fallback or out_of_scope ones), each with its reasons:
- `fallback`: the NLU gave nlu_fallback, or action_fallback answered the message;
- `out_of_scope_near_domain`: out_of_scope, and the text has a word of the filing domain
  (DOMAIN_WORDS, after normalize_for_nlu: simplified, half-width, lower case); an out_of_scope
  turn without one (天气, 写首诗) is not listed;
- `clarification_declined`: the message the "您是想问" clarification answered, when the next
  user message did not pick one of its options (figures.py: a pick is the button's payload or
  title) or the user said nothing more.
Period: the turn's own time, calendar days in WORKING_TIMEZONE (figures.Period).
Groups: near-duplicates together. Messages are taken oldest first; each joins the group whose
first message is the most similar to it at GROUP_SIMILARITY or more (char 3-gram Jaccard,
bot/learning/near_duplicates.py), or starts one. A group's id is `m<analytics event id of its
first message>`, stable while the period still holds that message. Sorted by count (most first,
then newest) or by newest.
Status: `open` (no verdict yet), `labelled`, `dismissed`; a verdict is one ReviewLabel per turn.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.analytics.conversations import FALLBACK_ACTION, FALLBACK_INTENT, OUT_OF_SCOPE_INTENT
from bot.analytics.figures import Period
from bot.analytics.models import AnalyticsConversation, AnalyticsEvent
from bot.learning.models import DISMISSED, LABELLED, ReviewLabel
from bot.learning.near_duplicates import char_ngrams, jaccard, normalized
from bot.nlu.text_normalization import normalize_for_nlu

GROUP_SIMILARITY = 0.5
MAX_MESSAGES = 5000  # newest first: a period holding more lists the newest ones
STATUSES = ("open", LABELLED, DISMISSED)
SORTS = ("count", "newest")
FALLBACK, NEAR_DOMAIN, DECLINED = "fallback", "out_of_scope_near_domain", "clarification_declined"
DOMAIN_WORDS = (
    "备案", "备按", "被案", "icp", "beian", "域名", "网站", "云托管", "云开发", "管局", "工信部", "主体",
    "接入", "注销", "驳回", "资源包", "工单", "小程序", "环境", "核验", "幕布", "公安", "ip",
)


class UnknownGroup(LookupError):
    pass


@dataclass
class Message:
    id: int
    at: datetime
    text: str
    channel: str | None
    intent: str | None
    reasons: list[str] = field(default_factory=list)
    verdict: ReviewLabel | None = None

    def json(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "id": self.id, "at": _iso(self.at), "text": self.text, "channel": self.channel, "intent": self.intent,
            "reasons": self.reasons, "status": verdict.status if verdict else "open",
            "label": verdict.label if verdict else None, "agent": verdict.agent if verdict else None,
            "decided_at": _iso(verdict.decided_at) if verdict else None,
        }


@dataclass
class Group:
    messages: list[Message]  # oldest first
    grams: frozenset[str]

    @property
    def id(self) -> str:
        return f"m{self.messages[0].id}"

    def json(self) -> dict[str, Any]:
        texts: dict[str, int] = {}
        for m in self.messages:
            texts[m.text] = texts.get(m.text, 0) + 1
        reasons: dict[str, int] = {}
        for reason in (r for m in self.messages for r in m.reasons):
            reasons[reason] = reasons.get(reason, 0) + 1
        return {
            "id": self.id, "count": len(self.messages), "text": self.messages[-1].text,
            "texts": [{"text": t, "count": n} for t, n in sorted(texts.items(), key=lambda item: -item[1])],
            "reasons": reasons, "first_at": _iso(self.messages[0].at), "last_at": _iso(self.messages[-1].at),
            "messages": [m.json() for m in reversed(self.messages)],  # newest first
        }


def _iso(at: datetime) -> str:
    return at.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


def near_domain(text: str) -> bool:
    folded = normalize_for_nlu(text)
    return any(word in folded for word in DOMAIN_WORDS)


def _conversation_rows(session: Session, period: Period, channel: str | None) -> dict[int, list[AnalyticsEvent]]:
    """The user, bot and action rows of every conversation with a kept text in the period, in order."""
    start, end = period.utc_bounds()
    with_text = (select(AnalyticsEvent.conversation_id)
                 .where(AnalyticsEvent.kind == "user", AnalyticsEvent.text_masked.is_not(None),
                        AnalyticsEvent.at >= start, AnalyticsEvent.at < end))
    if channel:
        with_text = with_text.join(AnalyticsConversation).where(AnalyticsConversation.channel == channel)
    ids = sorted(set(session.scalars(with_text.distinct())))
    rows: dict[int, list[AnalyticsEvent]] = {}
    for chunk in _chunks(ids):
        for row in session.scalars(select(AnalyticsEvent)
                                   .where(AnalyticsEvent.conversation_id.in_(chunk),
                                          AnalyticsEvent.kind.in_(("user", "bot", "action")))
                                   .order_by(AnalyticsEvent.conversation_id, AnalyticsEvent.id)):
            rows.setdefault(row.conversation_id, []).append(row)
    return rows


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[n:n + size] for n in range(0, len(ids), size)]


def _reasons(rows: list[AnalyticsEvent], index: int) -> list[str]:
    """Why the user turn rows[index] counts as not understood (empty: it does not)."""
    turn, reasons, following = rows[index], [], []
    for row in rows[index + 1:]:  # up to and with the next user turn
        following.append(row)
        if row.kind == "user":
            break
    if turn.name == FALLBACK_INTENT or any(r.kind == "action" and r.name == FALLBACK_ACTION for r in following):
        reasons.append(FALLBACK)
    if turn.name == OUT_OF_SCOPE_INTENT and near_domain(turn.text_masked or ""):
        reasons.append(NEAR_DOMAIN)
    if any(r.kind == "bot" and r.name == "clarify" for r in following):
        answer = following[-1] if following[-1].kind == "user" else None
        if answer is None or not (answer.detail or {}).get("picked"):
            reasons.append(DECLINED)
    return reasons


def not_understood(session: Session, period: Period, channel: str | None = None) -> list[Message]:
    """Every not-understood message of the period (module docstring), oldest first, with its verdict."""
    start, end = period.utc_bounds()
    found: list[tuple[int, Message]] = []
    for conversation_id, rows in _conversation_rows(session, period, channel).items():
        for index, row in enumerate(rows):
            if row.kind == "user" and row.text_masked and row.text_masked.strip() and start <= row.at < end:
                if reasons := _reasons(rows, index):
                    found.append((conversation_id, Message(row.id, row.at, row.text_masked.strip(), None,
                                                           row.name, reasons)))
    found = sorted(found, key=lambda pair: pair[1].id)[-MAX_MESSAGES:]
    channels: dict[int, str | None] = {}
    for chunk in _chunks(sorted({cid for cid, _ in found})):
        channels.update(session.execute(select(AnalyticsConversation.id, AnalyticsConversation.channel)
                                        .where(AnalyticsConversation.id.in_(chunk))).all())
    verdicts = verdicts_of(session, [m.id for _, m in found])
    for conversation_id, message in found:
        message.channel, message.verdict = channels.get(conversation_id), verdicts.get(message.id)
    return [m for _, m in found]


def verdicts_of(session: Session, event_ids: list[int]) -> dict[int, ReviewLabel]:
    verdicts: dict[int, ReviewLabel] = {}
    for chunk in _chunks(event_ids):
        verdicts.update({v.event_id: v for v in session.scalars(select(ReviewLabel)
                                                                .where(ReviewLabel.event_id.in_(chunk)))})
    return verdicts


def group_messages(messages: list[Message], threshold: float = GROUP_SIMILARITY) -> list[Group]:
    """Near-duplicates together (module docstring); groups in the order they started. The same
    normalised text joins its group at once; otherwise only groups sharing a 3-gram are scored."""
    groups: list[Group] = []
    by_text: dict[str, Group] = {}
    by_gram: dict[str, list[int]] = {}  # gram -> indexes of the groups whose first message has it
    for message in sorted(messages, key=lambda m: m.id):
        key = normalized(message.text)
        if key in by_text:
            by_text[key].messages.append(message)
            continue
        grams = char_ngrams(message.text)
        candidates = {index for gram in grams for index in by_gram.get(gram, ())}
        best, best_score = None, 0.0
        for index in sorted(candidates):
            score = jaccard(grams, groups[index].grams)
            if score > best_score:
                best, best_score = groups[index], score
        if best is None or best_score < threshold:
            best = Group([], grams)
            groups.append(best)
            for gram in grams:
                by_gram.setdefault(gram, []).append(len(groups) - 1)
        best.messages.append(message)
        by_text[key] = best
    return groups


def _status_of(message: Message) -> str:
    return message.verdict.status if message.verdict else "open"


def review_groups(session: Session, period: Period, channel: str | None = None, status: str = "open",
                  sort: str = "count") -> list[Group]:
    """The groups of the period's not-understood messages of one status, sorted (module docstring)."""
    messages = [m for m in not_understood(session, period, channel) if _status_of(m) == status]
    groups = group_messages(messages)
    if sort == "newest":
        return sorted(groups, key=lambda g: -g.messages[-1].id)
    return sorted(groups, key=lambda g: (-len(g.messages), -g.messages[-1].id))


def find_group(session: Session, period: Period, group_id: str, channel: str | None = None,
               status: str = "open") -> Group:
    for group in review_groups(session, period, channel, status):
        if group.id == group_id:
            return group
    raise UnknownGroup(f"unknown group {group_id[:40]!r}: not among the {status} groups of "
                       f"{period.first.isoformat()}..{period.last.isoformat()}")


def find_message(session: Session, event_id: int) -> Message:
    """One not-understood message by its analytics event id (any date); UnknownGroup when it is not one."""
    row = session.get(AnalyticsEvent, event_id)
    if row is None or row.kind != "user" or not (row.text_masked or "").strip():
        raise UnknownGroup(f"unknown message {event_id}: not a not-understood user message")
    return Message(row.id, row.at, row.text_masked.strip(), None, row.name, [],
                   verdicts_of(session, [row.id]).get(row.id))


def decide(session: Session, messages: list[Message], label: str | None, agent: str,
           now: datetime | None = None) -> int:
    """Label (an already checked label) or dismiss (None) every message; who and when recorded.
    A new verdict replaces an earlier one (and makes the message exportable again)."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    existing = verdicts_of(session, [m.id for m in messages])
    for message in messages:
        verdict = existing.get(message.id)
        if verdict is None:
            verdict = ReviewLabel(event_id=message.id, text_masked=message.text)
            session.add(verdict)
        verdict.status = LABELLED if label else DISMISSED
        verdict.label, verdict.agent, verdict.decided_at = label, agent[:255], now
        verdict.exported_at = verdict.exported_to = None
    session.flush()
    return len(messages)
