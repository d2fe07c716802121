"""Questions about one CloudBase environment: filing quota and why 云托管 cannot be selected."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity_or_slot, knowledge, now, unit_of_work
from actions.lookups import AskForIdUnlessInvited
from bot.filing import services
from bot.filing.diagnosis import Diagnosis, Finding
from bot.filing.knowledge import KnowledgeBase
from bot.filing.quota import QuotaReport, QuotaState

ENV_SLOT = "cloudbase_env"
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


def environment_answer(query: str, env_id: str) -> str:
    """Answer `query` for the environment from the filing core."""
    kb = knowledge()
    if query == TROUBLESHOOT:
        diagnosis = services.diagnose_environment(unit_of_work(), env_id, now())
        if diagnosis is None:
            return kb.message("environment_not_found", env_id=env_id)
        return diagnosis_text(kb, diagnosis)
    report = services.check_quota(unit_of_work(), env_id)
    if report is None:
        return kb.message("environment_not_found", env_id=env_id)
    return quota_text(kb, report)


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
        env_id = entity_or_slot(tracker, ENV_SLOT)
        if env_id:
            dispatcher.utter_message(text=environment_answer(self.query, env_id))
            return [SlotSet(ENV_SLOT, env_id), SlotSet("pending_query", None)]
        if self.preamble:
            dispatcher.utter_message(text=knowledge().message(self.preamble))
        return [SlotSet("pending_query", self.query), ActiveLoop(FORM)]


class ActionFilingQuota(_EnvironmentQuestion):
    """How many filings an environment has left (the rule itself when none is named)."""

    query = QUOTA
    preamble = "quota_rule"

    def name(self) -> str:
        return "action_filing_quota"


class ActionTroubleshootCloudrun(_EnvironmentQuestion):
    """Runs the seed's checks on an environment where 云托管 cannot be selected."""

    query = TROUBLESHOOT

    def name(self) -> str:
        return "action_troubleshoot_cloudrun"


class ActionAskCloudbaseEnv(AskForIdUnlessInvited):
    """Asks for the environment id, unless this turn already invited it."""

    message_key = "ask_environment"

    def name(self) -> str:
        return "action_ask_cloudbase_env"


class ValidateEnvironmentForm(FormValidationAction):
    """Accepts only environment ids the filing core knows."""

    def name(self) -> str:
        return "validate_environment_form"

    async def validate_cloudbase_env(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        env_id = str(value or "").strip().lower()
        with unit_of_work() as uow:
            exists = uow.environments.get(env_id) is not None
        if exists:
            return {ENV_SLOT: env_id}
        dispatcher.utter_message(text=knowledge().message("environment_not_found", env_id=env_id))
        return {ENV_SLOT: None}


class ActionAnswerEnvironment(Action):
    """Answers the question that waited for the environment form."""

    def name(self) -> str:
        return "action_answer_environment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        env_id = tracker.get_slot(ENV_SLOT)
        query = tracker.get_slot("pending_query") or QUOTA
        if env_id:
            dispatcher.utter_message(text=environment_answer(query, env_id))
        return [SlotSet("pending_query", None)]
