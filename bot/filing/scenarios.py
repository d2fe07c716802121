"""The seed's scenario table as a decision: what the user has -> which filing to do."""
from __future__ import annotations

import enum
from dataclasses import dataclass

# The provider this assistant supports; filings held elsewhere need 接入 first.
HOME_PROVIDER = "腾讯云"


class Goal(str, enum.Enum):
    """What the user wants to achieve with the filing."""

    HOST_SITE = "host_site"  # put a website on 云托管
    CHANGE = "change"  # change something, not yet said what
    CHANGE_SUBJECT = "change_subject"  # 主体 details changed
    CHANGE_WEBSITE = "change_website"  # website details or its cloud service changed
    CANCEL = "cancel"  # cancel something, not yet said what
    CANCEL_SUBJECT = "cancel_subject"
    CANCEL_WEBSITE = "cancel_website"
    LEAVE = "leave"  # the site no longer points at this cloud


@dataclass(frozen=True)
class Situation:
    """What is known of the user's case; None means not known yet."""

    goal: Goal | None = Goal.HOST_SITE  # None: the user has not said what they want
    subject_filed: bool | None = None  # has the 主体 ever been filed
    filed_with: str | None = None  # provider holding the existing filing
    website_filed: bool | None = None  # is this website (domain) already filed


@dataclass(frozen=True)
class Recommendation:
    """A scenario key of the knowledge base and the rule that chose it."""

    scenario: str
    rule: str


# Goals that map straight to one scenario, whatever else is known.
_DIRECT = {
    Goal.CHANGE_SUBJECT: Recommendation("change_filing", "subject_details_changed"),
    Goal.CHANGE_WEBSITE: Recommendation("change_website", "website_details_changed"),
    Goal.CANCEL_SUBJECT: Recommendation("cancel_subject", "cancel_whole_subject"),
    Goal.CANCEL_WEBSITE: Recommendation("cancel_website", "cancel_one_website"),
    Goal.LEAVE: Recommendation("cancel_access", "site_left_this_cloud"),
}


def filed_here(situation: Situation) -> bool | None:
    """Whether the existing filing is held by this provider (None when unknown)."""
    if situation.filed_with is None:
        return None
    return situation.filed_with == HOME_PROVIDER


def recommend(situation: Situation, strict: bool = False) -> Recommendation | None:
    """The scenario for the situation, or None while a deciding fact is missing.

    Not `strict`, a filing held elsewhere with no word on the website is taken as the usual
    case (moving the filed site: 接入备案); `strict` (the guided questions) asks instead.
    """
    if situation.goal in _DIRECT:
        return _DIRECT[situation.goal]
    if situation.goal != Goal.HOST_SITE:
        return None
    subject_filed = situation.subject_filed
    if situation.website_filed or situation.filed_with is not None:
        subject_filed = True  # a filed website or a provider holding a filing implies a filed 主体
    if subject_filed is False:
        return Recommendation("first_filing", "nothing_filed_yet")
    if subject_filed is None:
        return None
    here = filed_here(situation)
    if situation.website_filed:
        if here is False:
            return Recommendation("access_filing", "website_filed_elsewhere")
        if here is True:
            return Recommendation("change_website", "website_filed_here_moves_to_cloudrun")
        return None
    if situation.website_filed is None and strict:
        return None
    if here is True:
        return Recommendation("add_website_here", "new_website_subject_filed_here")
    if here is False:
        # Filed elsewhere: with no word on the website, the usual case is moving the filed site.
        if situation.website_filed is None:
            return Recommendation("access_filing", "filed_elsewhere")
        return Recommendation("add_website_elsewhere", "new_website_subject_filed_elsewhere")
    return None


class Question(str, enum.Enum):
    """The guided questions, in the order they are asked; values are slot names."""

    GOAL = "filing_goal"
    CHANGE_TARGET = "change_target"
    CANCEL_TARGET = "cancel_target"
    SUBJECT_FILED = "subject_filed"
    FILED_WITH = "filed_with"
    WEBSITE_FILED = "website_filed"


# At most four questions on any path: goal, then the 主体, where, and the website.
MAX_QUESTIONS = 4


def next_question(situation: Situation) -> Question | None:
    """The one question whose answer moves the decision on; None once it is decided."""
    if recommend(situation, strict=True) is not None:
        return None
    if situation.goal is None:
        return Question.GOAL
    if situation.goal == Goal.CHANGE:
        return Question.CHANGE_TARGET
    if situation.goal == Goal.CANCEL:
        return Question.CANCEL_TARGET
    implied_filed = situation.website_filed or situation.filed_with is not None
    if situation.subject_filed is None and not implied_filed:
        return Question.SUBJECT_FILED
    if situation.filed_with is None:
        return Question.FILED_WITH
    return Question.WEBSITE_FILED
