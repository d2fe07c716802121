"""Demo data for the embedded database: `python -m bot.filing.seed [--url URL]`."""
from __future__ import annotations

import argparse
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import config
from bot.filing.db import create_schema, make_engine, session_factory
from bot.filing.models import (
    FILING_SERVICE_NAME,
    Account,
    CloudRunService,
    Environment,
    FilingIp,
    FilingOrder,
    OrderStatus,
    ResourcePack,
    ServiceFilingStatus,
    SubjectType,
)

DEMO_ACCOUNT_ID = "acct-demo"
_PURCHASED = datetime(2026, 1, 5, 10, 0)
_EXPIRES = datetime(2099, 1, 5, 10, 0)


def _environment(env_id: str, name: str) -> Environment:
    return Environment(id=env_id, account_id=DEMO_ACCOUNT_ID, name=name, created_at=_PURCHASED)


def _pack(expires_at: datetime = _EXPIRES) -> ResourcePack:
    return ResourcePack(purchased_at=_PURCHASED, expires_at=expires_at)


def _filing_service(status: ServiceFilingStatus, reason: str | None = None) -> CloudRunService:
    return CloudRunService(name=FILING_SERVICE_NAME, filing_status=status, filing_block_reason=reason)


def demo_records() -> list[object]:
    """The demo account, its four environments and its orders, as unsaved objects."""
    account = Account(
        id=DEMO_ACCOUNT_ID,
        subject_name="示例科技有限公司",
        subject_type=SubjectType.ORGANISATION,
        subject_number="粤ICP备2026012345号",
        filed_at_provider="腾讯云",
    )

    ok = _environment("env-demo-ok", "演示环境（可备案）")
    ok.resource_packs = [_pack()]
    ok.services = [_filing_service(ServiceFilingStatus.ELIGIBLE), CloudRunService(name="api-server")]
    ok.filing_ips = [FilingIp(address="203.0.113.10")]

    full = _environment("env-demo-full", "演示环境（次数已用完）")
    full.resource_packs = [_pack()]
    full.services = [_filing_service(ServiceFilingStatus.ELIGIBLE)]
    full_ip = FilingIp(address="203.0.113.20")
    full.filing_ips = [full_ip]

    noservice = _environment("env-demo-noservice", "演示环境（缺少备案服务）")
    noservice.resource_packs = [_pack()]
    noservice.services = [CloudRunService(name="web")]

    blocked = _environment("env-demo-blocked", "演示环境（不可备案）")
    blocked.resource_packs = [_pack(expires_at=datetime(2026, 7, 5, 10, 0))]
    blocked.services = [_filing_service(ServiceFilingStatus.INELIGIBLE, "云托管资源包已过期")]
    blocked.filing_ips = [FilingIp(address="203.0.113.30")]

    orders = [
        FilingOrder(
            id="BA-DEMO-0001", account_id=DEMO_ACCOUNT_ID, scenario="add_website_here",
            status=OrderStatus.AUTHORITY_REVIEW, domain="shop.example.cn", website_name="示例商城",
            submitted_at=datetime(2026, 11, 10, 9, 30), updated_at=datetime(2026, 11, 12, 16, 0),
        ),
        FilingOrder(
            id="BA-DEMO-0002", account_id=DEMO_ACCOUNT_ID, scenario="first_filing",
            status=OrderStatus.REJECTED, rejection_reason="网站名称不符合要求",
            domain="blog.example.cn", website_name="最好的博客",
            submitted_at=datetime(2026, 11, 3, 14, 0), updated_at=datetime(2026, 11, 5, 11, 20),
        ),
        FilingOrder(
            id="BA-DEMO-0003", account_id=DEMO_ACCOUNT_ID, scenario="first_filing",
            status=OrderStatus.APPROVED, domain="example.cn", website_name="示例官网", filing_ip=full_ip,
            subject_number="粤ICP备2026012345号", website_number="粤ICP备2026012345号-1",
            submitted_at=datetime(2026, 2, 1, 10, 0), updated_at=datetime(2026, 2, 20, 10, 0),
        ),
        FilingOrder(
            id="BA-DEMO-0004", account_id=DEMO_ACCOUNT_ID, scenario="add_website_here",
            status=OrderStatus.APPROVED, domain="docs.example.com.cn", website_name="示例文档中心",
            filing_ip=full_ip, website_number="粤ICP备2026012345号-2",
            submitted_at=datetime(2026, 3, 1, 10, 0), updated_at=datetime(2026, 3, 25, 10, 0),
        ),
        FilingOrder(
            id="BA-DEMO-0005", account_id=DEMO_ACCOUNT_ID, scenario="access_filing",
            status=OrderStatus.INITIAL_REVIEW, domain="app.example.net", website_name="示例应用",
            submitted_at=datetime(2026, 11, 25, 9, 0), updated_at=datetime(2026, 11, 25, 9, 0),
        ),
    ]
    return [account, ok, full, noservice, blocked, *orders]


def is_empty(session: Session) -> bool:
    """Whether the database holds no account yet."""
    return session.execute(select(func.count()).select_from(Account)).scalar_one() == 0


def seed_demo_data(session: Session) -> bool:
    """Add the demo data unless some data exists; returns whether it seeded."""
    if not is_empty(session):
        return False
    session.add_all(demo_records())
    session.commit()
    return True


def main(argv: list[str] | None = None) -> None:
    """Create the schema and load the demo data into an empty database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=None, help="database URL (default: FILING_DB_URL or var/filing.db)")
    args = parser.parse_args(argv)
    url = args.url or config.filing_db_url()
    engine = make_engine(url)
    create_schema(engine)
    with session_factory(engine)() as session:
        seeded = seed_demo_data(session)
    engine.dispose()
    print("seeded demo data" if seeded else "database already has data; left as it is")


if __name__ == "__main__":
    main()
