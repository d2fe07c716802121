"""Canned replies (快捷回复): texts from the knowledge base an agent searches and inserts into a reply.

The catalogue is what the bot itself says, so agents and bot tell users the same: the agents'
phrases, every FAQ answer, chosen static answers, the filing scenarios and the rejection reasons
(data/knowledge/canned_replies.yml says which and how they are titled). `GET /api/canned-replies
?q=&limit=` finds them: every whitespace-separated word of `q` must occur in the title or the
text (case-insensitive); title hits rank first, then the catalogue's order. Nothing is sent:
the page puts the text into the reply box for the agent to edit and send.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sanic import Blueprint, response
from sanic.request import Request

from bot.console.http import authorised
from bot.content.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.settings import settings as current_settings
from bot.ticketing.agents import AgentView
from bot.ticketing.errors import InvalidInput

FILE, SECTION = "canned_replies.yml", "canned_replies"
MAX_QUERY_CHARS = 50
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


@dataclass(frozen=True)
class CannedReply:
    id: str  # "<source>:<key>", stable across restarts
    source: str  # phrase, faq, answer, scenario, rejection
    source_label: str
    title: str
    text: str


def build_catalogue(kb: KnowledgeBase, config: dict[str, Any]) -> tuple[CannedReply, ...]:
    """Every canned reply, rendered ({link:...} filled), in the order the page lists them."""
    labels = config.get("labels", {})

    def reply(source: str, key: str, title: str, text: str) -> CannedReply:
        return CannedReply(f"{source}:{key}", source, labels.get(source, source), title, text.strip())

    found = [reply("phrase", key, item["title"], kb.render(item["text"]))
             for key, item in (config.get("phrases") or {}).items()]
    found += [reply("faq", key, entry.question, kb.faq_answer(key)) for key, entry in kb.faq.items()]
    for key in config.get("answers") or []:
        found.append(reply("answer", key, kb.intent_title(key) or key, kb.answer(key)))
    found += [reply("scenario", key, s.name, kb.scenario_text(key)) for key, s in kb.scenarios.items()]
    titles = config.get("rejection_titles") or {}
    for key, rejection in kb.rejections.items():
        text = kb.render(config["rejection_text"], explain=rejection.explain, fix=rejection.fix)
        found.append(reply("rejection", key, titles.get(key, key), text))
    return tuple(found)


@lru_cache(maxsize=4)
def catalogue(directory: str) -> tuple[CannedReply, ...]:
    """The catalogue of a knowledge folder, built once per process."""
    path = Path(directory) / FILE
    config = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(SECTION)
    if not isinstance(config, dict):
        raise KnowledgeError(f"no {SECTION!r} section in {path}")
    return build_catalogue(load_knowledge(directory), config)


def search(replies: tuple[CannedReply, ...], query: str, limit: int = DEFAULT_LIMIT) -> tuple[list[CannedReply], int]:
    """The replies matching every word of `query` (all when blank), best first, and how many matched."""
    words = [w.casefold() for w in query.split()]
    ranked = []
    for order, item in enumerate(replies):
        title, text = item.title.casefold(), item.text.casefold()
        if all(w in title or w in text for w in words):
            ranked.append((-sum(w in title for w in words), order, item))
    ranked.sort(key=lambda entry: entry[:2])
    return [item for *_, item in ranked[:limit]], len(ranked)


def parse_query(args: Any) -> tuple[str, int]:
    """`q` and `limit` of the request, InvalidInput when out of bounds."""
    query = (args.get("q") or "").strip()
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"'q' must be at most {MAX_QUERY_CHARS} characters")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in query):  # whitespace separates words
        raise InvalidInput("'q' must not contain control characters")
    raw = args.get("limit")
    if raw is None or raw == "":
        return query, DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidInput(f"'limit' must be an integer from 1 to {MAX_LIMIT}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"'limit' must be an integer from 1 to {MAX_LIMIT}")
    return query, limit


@authorised
async def canned_replies(request: Request, agent: AgentView) -> response.HTTPResponse:
    query, limit = parse_query(request.args)
    found, total = search(catalogue(str(current_settings().knowledge_dir)), query, limit)
    return response.json({"replies": [asdict(r) for r in found], "total": total, "q": query})


def canned_replies_blueprint() -> Blueprint:
    """A blueprint of this route (one per app: a console app is built per test)."""
    blueprint = Blueprint("console_canned_replies")
    blueprint.add_route(canned_replies, "/api/canned-replies", methods=["GET"])
    return blueprint
