"""Every slot of domain.yml by name, in one place (tests/unit/test_slot_names.py holds them equal)."""
from __future__ import annotations

# Ids and numbers the user gave (entities of the same names fill them).
CLOUDBASE_ENV = "cloudbase_env"
ORDER_ID = "order_id"
ICP_NUMBER = "icp_number"
DOMAIN = "domain"
TICKET_ID = "ticket_id"
CLOUD_PROVIDER = "cloud_provider"
PROVINCE = "province"
# What the guide asks (scenario_form) and what it recommended.
FILING_GOAL = "filing_goal"
CHANGE_TARGET = "change_target"
CANCEL_TARGET = "cancel_target"
SUBJECT_FILED = "subject_filed"
FILED_WITH = "filed_with"
WEBSITE_FILED = "website_filed"
RECOMMENDED_SCENARIO = "recommended_scenario"
# Where a walk stands, what its checks found, and the question put aside for a form.
WALK_STEP = "walk_step"
WALK_FACTS = "walk_facts"
PENDING_QUERY = "pending_query"
# The user's rating of the help (satisfaction_form), its optional reason (masked), and the
# closed ticket being rated when an agent's ticket asks it. The analytics read the first two.
SATISFACTION = "satisfaction"
SATISFACTION_REASON = "satisfaction_reason"
SATISFACTION_TICKET = "satisfaction_ticket"

ALL = frozenset({
    CLOUDBASE_ENV, ORDER_ID, ICP_NUMBER, DOMAIN, TICKET_ID, CLOUD_PROVIDER, PROVINCE,
    FILING_GOAL, CHANGE_TARGET, CANCEL_TARGET, SUBJECT_FILED, FILED_WITH, WEBSITE_FILED, RECOMMENDED_SCENARIO,
    WALK_STEP, WALK_FACTS, PENDING_QUERY, SATISFACTION, SATISFACTION_REASON, SATISFACTION_TICKET,
})
# Rasa's own: the slot a form is asking for.
REQUESTED_SLOT = "requested_slot"
