"""What the seeded demo environments are expected to look like, shared by unit and integration tests."""
from __future__ import annotations

from bot.filing.diagnosis import Finding

# (environment id, the diagnosis Finding it yields well after purchase), one per demo environment.
DEMO_DIAGNOSIS_FINDINGS: list[tuple[str, Finding]] = [
    ("env-demo-ok", Finding.OK),
    ("env-demo-full", Finding.QUOTA_EXHAUSTED),
    ("env-demo-noservice", Finding.NO_SERVICE),
    ("env-demo-blocked", Finding.BLOCKED),
    ("env-demo-nopack", Finding.NO_RESOURCE_PACK),
    ("env-demo-noip", Finding.NO_IP),
]
