"""bot/filing/scenarios.py: the seed's scenario table as a decision."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.filing.scenarios import HOME_PROVIDER, Goal, Situation, filed_here, recommend

ELSEWHERE = "阿里云"


def scenario_for(situation: Situation) -> str | None:
    result = recommend(situation)
    return None if result is None else result.scenario


# --- one test per row of the seed's table ------------------------------------

def test_nothing_ever_filed_is_a_first_filing() -> None:
    # 网站托管在腾讯云云托管，且网站的主办者和域名从未办理过备案。
    assert scenario_for(Situation(subject_filed=False, website_filed=False)) == "first_filing"


def test_subject_never_filed_alone_is_enough_for_a_first_filing() -> None:
    assert scenario_for(Situation(subject_filed=False)) == "first_filing"


def test_website_filed_with_another_provider_needs_access_filing() -> None:
    # 已经在其他接入商处完成备案取得备案号，现需要更换服务商。
    assert scenario_for(Situation(subject_filed=True, filed_with=ELSEWHERE, website_filed=True)) == "access_filing"


def test_new_website_for_a_subject_filed_here_is_add_website_here() -> None:
    # 已在腾讯云进行备案，现需要新增网站。
    situation = Situation(subject_filed=True, filed_with=HOME_PROVIDER, website_filed=False)

    assert scenario_for(situation) == "add_website_here"


def test_new_website_for_a_subject_filed_elsewhere_is_add_website_elsewhere() -> None:
    # 未在腾讯云进行备案，想更换服务商并且需要新增网站。
    situation = Situation(subject_filed=True, filed_with=ELSEWHERE, website_filed=False)

    assert scenario_for(situation) == "add_website_elsewhere"


def test_changed_subject_details_is_change_filing() -> None:
    assert scenario_for(Situation(goal=Goal.CHANGE_SUBJECT)) == "change_filing"


def test_changed_website_details_is_change_website() -> None:
    assert scenario_for(Situation(goal=Goal.CHANGE_WEBSITE)) == "change_website"


def test_website_filed_here_moving_to_cloudrun_is_change_website() -> None:
    # 包括更换用于备案的云服务，例如从云服务备案变更为云托管备案。
    situation = Situation(subject_filed=True, filed_with=HOME_PROVIDER, website_filed=True)

    assert scenario_for(situation) == "change_website"


def test_cancelling_the_whole_subject_is_cancel_subject() -> None:
    assert scenario_for(Situation(goal=Goal.CANCEL_SUBJECT)) == "cancel_subject"


def test_cancelling_one_website_is_cancel_website() -> None:
    assert scenario_for(Situation(goal=Goal.CANCEL_WEBSITE)) == "cancel_website"


def test_site_no_longer_pointing_here_is_cancel_access() -> None:
    assert scenario_for(Situation(goal=Goal.LEAVE)) == "cancel_access"


def test_filed_at_aliyun_before_is_access_filing() -> None:
    assert scenario_for(Situation(filed_with="阿里云")) == "access_filing"


# --- rules and implied facts ------------------------------------------------------

@pytest.mark.parametrize(
    ("goal", "scenario"),
    [
        (Goal.CHANGE_SUBJECT, "change_filing"),
        (Goal.CHANGE_WEBSITE, "change_website"),
        (Goal.CANCEL_SUBJECT, "cancel_subject"),
        (Goal.CANCEL_WEBSITE, "cancel_website"),
        (Goal.LEAVE, "cancel_access"),
    ],
)
def test_goals_other_than_hosting_decide_alone_whatever_else_is_known(goal: Goal, scenario: str) -> None:
    for situation in (
        Situation(goal=goal),
        Situation(goal=goal, subject_filed=False),
        Situation(goal=goal, subject_filed=True, filed_with=ELSEWHERE, website_filed=True),
    ):
        assert scenario_for(situation) == scenario


def test_a_filed_website_implies_a_filed_subject() -> None:
    situation = Situation(subject_filed=False, filed_with=ELSEWHERE, website_filed=True)

    assert scenario_for(situation) == "access_filing"


def test_a_provider_holding_a_filing_implies_a_filed_subject() -> None:
    assert scenario_for(Situation(subject_filed=False, filed_with=HOME_PROVIDER)) == "add_website_here"


def test_recommendation_names_the_rule_that_chose_it() -> None:
    assert recommend(Situation(subject_filed=False)).rule == "nothing_filed_yet"
    assert recommend(Situation(filed_with=ELSEWHERE)).rule == "filed_elsewhere"
    assert recommend(Situation(goal=Goal.LEAVE)).rule == "site_left_this_cloud"


def test_filed_here_compares_the_provider_with_this_cloud() -> None:
    assert filed_here(Situation(filed_with=HOME_PROVIDER)) is True
    assert filed_here(Situation(filed_with=ELSEWHERE)) is False
    assert filed_here(Situation()) is None


# --- undecidable: a deciding fact is missing -------------------------------------

@pytest.mark.parametrize(
    "situation",
    [
        Situation(),
        Situation(subject_filed=True),
        Situation(website_filed=False),
        Situation(subject_filed=True, website_filed=False),
        Situation(website_filed=True),
        Situation(subject_filed=True, website_filed=True),
    ],
    ids=[
        "nothing_known",
        "subject_filed_provider_unknown",
        "website_not_filed_subject_unknown",
        "subject_filed_new_site_provider_unknown",
        "website_filed_provider_unknown",
        "subject_and_site_filed_provider_unknown",
    ],
)
def test_situation_missing_a_deciding_fact_has_no_recommendation_yet(situation: Situation) -> None:
    assert recommend(situation) is None


# --- the recommender and the knowledge base agree ----------------------------

def test_every_scenario_the_recommender_names_is_in_the_knowledge_base() -> None:
    path = Path(__file__).resolve().parents[2] / "data" / "knowledge" / "scenarios.yml"
    known = set(yaml.safe_load(path.read_text(encoding="utf-8"))["scenarios"])
    situations = [Situation(goal=goal) for goal in Goal] + [
        Situation(subject_filed=s, filed_with=p, website_filed=w)
        for s in (None, False, True)
        for p in (None, HOME_PROVIDER, ELSEWHERE)
        for w in (None, False, True)
    ]

    named = {r.scenario for r in map(recommend, situations) if r is not None}

    assert named == known
