"""Questions about one CloudBase environment: filing quota and why 云托管 cannot be selected."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.common import (
    Reply,
    binding_needed,
    buttons,
    knowledge,
    now,
    say,
    send,
    sender_account,
    unit_of_work,
)
from actions.escalation import offering_ticket
from actions.lookups import AskForIdUnlessInvited, ids_in_message, owned_id_validation, several_replies
from actions.walks import CHOICE_ENTITY, FACTS_SLOT, STEP_SLOT, Step, checks_summary
from bot.content.knowledge import KnowledgeBase
from bot.filing import services
from bot.filing.diagnosis import Diagnosis, Finding
from bot.filing.quota import QuotaReport, QuotaState

ENV_SLOT = slots.CLOUDBASE_ENV
FORM = "environment_form"
QUOTA = "filing_quota"
TROUBLESHOOT = "troubleshoot_cloudrun"


def quota_text(kb: KnowledgeBase, report: QuotaReport) -> str:
    """The quota report in the user's words."""
    env_id = report.environment_id
    if report.state == QuotaState.NO_IP:
        return kb.message("quota_no_ip", env_id=env_id, reason=kb.no_ip_reason(report.no_ip_reason.value))
    ips = "、".join(ip.address for ip in report.ips)
    key = "quota_remaining" if report.state == QuotaState.AVAILABLE else "quota_exhausted"
    return kb.message(
        key, env_id=env_id, ip=ips, used=report.used, total=report.total, remaining=report.remaining
    )


def diagnosis_text(kb: KnowledgeBase, diagnosis: Diagnosis) -> str:
    """The finding of the seed's checks, with its fix."""
    env_id = diagnosis.environment_id
    values: dict[str, object] = {"env_id": env_id}
    if diagnosis.finding == Finding.INITIALIZING:
        values["minutes_left"] = diagnosis.minutes_left
    elif diagnosis.finding == Finding.BLOCKED:
        values["reason"] = diagnosis.block_reason or kb.no_ip_reason("service_ineligible")
    elif diagnosis.finding in (Finding.OK, Finding.QUOTA_EXHAUSTED):
        ip = diagnosis.ip
        values.update(ip=ip.address, remaining=ip.remaining, used=ip.used, total=ip.total)
    return kb.message(f"diagnosis_{diagnosis.finding.value}", **values)


# Quick replies of the quota walk: the choice travels as an entity of an affirm.
QUOTA_CHOICES = ("other_environment", "release", "human")


def quota_options(kb: KnowledgeBase) -> list[dict[str, str]]:
    titles = kb.walk_buttons("quota_option_buttons")
    return [
        {"title": title, "payload": f'/affirm{{"{CHOICE_ENTITY}": "{choice}"}}'}
        for title, choice in zip(titles, QUOTA_CHOICES)
    ]


def quota_walk(
    kb: KnowledgeBase, env_id: str, account_id: str, ip: str, used: int, total: int, checks: list[str]
) -> Reply:
    """Quota used up: how quota comes and the ways forward, as choices."""
    filings = [
        kb.walk("quota_filing_line", domain=domain, number=number or "审核中")
        for domain, number in services.filings_holding_slots(unit_of_work(), env_id, account_id)
    ]
    facts = {"walk": "quota", "env": env_id, "ip": ip, "filings": filings, "checks": checks}
    text = kb.walk("quota_ways_forward", env_id=env_id, ip=ip, used=used, total=total)
    return Reply(text, quota_options(kb), [SlotSet(STEP_SLOT, Step.QUOTA_OPTIONS), SlotSet(FACTS_SLOT, facts)])


def troubleshoot_reply(
    kb: KnowledgeBase, diagnosis: Diagnosis, account_id: str, previous: dict[str, Any] | None
) -> Reply:
    """The finding with its fix, and the walk's next step."""
    env_id = diagnosis.environment_id
    checks = [kb.check_label(name, passed) for name, passed in diagnosis.checks]
    facts = {"walk": "cloudrun", "env": env_id, "finding": diagnosis.finding.value, "checks": checks}
    finding = diagnosis.finding
    same_again = bool(previous) and previous.get("env") == env_id and previous.get("finding") == finding.value
    if finding == Finding.QUOTA_EXHAUSTED:
        ip = diagnosis.ip
        return quota_walk(kb, env_id, account_id, ip.address, ip.used, ip.total, checks)
    text = diagnosis_text(kb, diagnosis)
    remember = SlotSet(FACTS_SLOT, facts)
    if finding in (Finding.NO_SERVICE, Finding.NO_IP) or (same_again and finding in (Finding.OK, Finding.BLOCKED)):
        # Engineers must look, or the user already tried the fix: offer a person with the checks.
        offer = kb.walk("ticket_offer", checks=checks_summary(facts))
        text = offer if same_again else f"{text}\n{offer}"
        return Reply(text, buttons(kb.walk_buttons("ticket_offer_buttons")), [SlotSet(STEP_SLOT, Step.TICKET_OFFER), remember])
    if finding == Finding.OK:
        text = f"{text}\n{kb.walk('cloudrun_retry_question')}"
        return Reply(text, buttons(kb.walk_buttons("cloudrun_retry_buttons")), [SlotSet(STEP_SLOT, Step.CLOUDRUN_RETRY), remember])
    if finding in (Finding.INITIALIZING, Finding.BLOCKED):
        follow_up = "cloudrun_wait_followup" if finding == Finding.INITIALIZING else "cloudrun_blocked_followup"
        return Reply(f"{text}\n{kb.walk(follow_up)}", [], [SlotSet(STEP_SLOT, Step.CLOUDRUN_FOLLOW_UP), remember])
    return Reply(text, [], [SlotSet(STEP_SLOT, None), remember])


def environment_reply(query: str, env_id: str, tracker: Tracker) -> Reply:
    """Answer `query` for the environment of the sender's account from the filing core.

    As for orders (actions/orders.py): unbound, the general answer whether or not the
    environment exists; bound, another account's environment reads as not found.
    """
    account = sender_account(tracker)
    if account is None:
        general = "account_troubleshoot_general" if query == TROUBLESHOOT else "quota_rule"
        return binding_needed("account_environment_needs_binding", general, env_id=env_id)
    kb = knowledge()
    if query == TROUBLESHOOT:
        diagnosis = services.diagnose_environment(unit_of_work(), env_id, account, now())
        if diagnosis is None:
            return Reply(kb.message("environment_not_found", env_id=env_id))
        return troubleshoot_reply(kb, diagnosis, account, tracker.get_slot(FACTS_SLOT))
    report = services.check_quota(unit_of_work(), env_id, account)
    if report is None:
        return Reply(kb.message("environment_not_found", env_id=env_id))
    if report.state == QuotaState.EXHAUSTED:
        ip = max(report.ips, key=lambda i: i.used)
        return quota_walk(kb, env_id, account, ip.address, report.used, report.total, [])
    return Reply(quota_text(kb, report))


def environments_reply(query: str, env_ids: list[str], tracker: Tracker) -> tuple[Reply, str]:
    """Answer `query` for each environment named, in one reply; and the id the walk follows.

    Unbound, one general answer names them all (details of none of them are given).
    """
    if len(env_ids) == 1 or sender_account(tracker) is None:
        return environment_reply(query, "、".join(env_ids), tracker), env_ids[0]
    return several_replies(knowledge(), [(env_id, environment_reply(query, env_id, tracker)) for env_id in env_ids])


class _EnvironmentQuestion(Action, ABC):
    """Answers for a named environment, or asks which one and answers next turn."""

    query = ""
    preamble: str | None = None  # knowledge-base message said before asking

    @abstractmethod
    def name(self) -> str:
        """Abstract, so rasa_sdk's executor does not register this base class."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        env_ids = ids_in_message(tracker, ENV_SLOT, str.lower)
        if env_ids:
            reply, env_id = environments_reply(self.query, env_ids, tracker)
            events = send(dispatcher, tracker, offering_ticket(reply, tracker))
            return [SlotSet(ENV_SLOT, env_id), SlotSet(slots.PENDING_QUERY, None), *events]
        if self.preamble:
            say(dispatcher, tracker, knowledge().message(self.preamble))
        return [SlotSet(slots.PENDING_QUERY, self.query), ActiveLoop(FORM)]


class ActionFilingQuota(_EnvironmentQuestion):
    """How many filings an environment has left (the rule itself when none is named)."""

    query = QUOTA
    preamble = "quota_rule"

    def name(self) -> str:
        return "action_filing_quota"


class ActionTroubleshootCloudrun(_EnvironmentQuestion):
    """Runs the seed's checks on an environment where 云托管 cannot be selected."""

    query = TROUBLESHOOT
    # The seed's checks at once: a user who does not know the id still gets help.
    preamble = "troubleshoot_checks"

    def name(self) -> str:
        return "action_troubleshoot_cloudrun"


class ActionAskCloudbaseEnv(AskForIdUnlessInvited):
    """Asks for the environment id, unless this turn already invited it."""

    message_key = "ask_environment"

    def name(self) -> str:
        return "action_ask_cloudbase_env"


ValidateEnvironmentForm = owned_id_validation(
    FORM, ENV_SLOT, str.lower, services.owns_environment, "environment_not_found", "env_id"
)


class ActionAnswerEnvironment(Action):
    """Answers the question that waited for the environment form."""

    def name(self) -> str:
        return "action_answer_environment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        env_id = tracker.get_slot(ENV_SLOT)
        query = tracker.get_slot(slots.PENDING_QUERY) or QUOTA
        events: list[EventType] = []
        if env_id:
            # The form keeps the first id; answer every one the message named.
            named = ids_in_message(tracker, ENV_SLOT, str.lower)
            env_ids = named if env_id in named else [env_id]
            reply, env_id = environments_reply(query, env_ids, tracker)
            events = [SlotSet(ENV_SLOT, env_id), *send(dispatcher, tracker, offering_ticket(reply, tracker))]
        return [SlotSet(slots.PENDING_QUERY, None), *events]
