"""Demo data for the embedded database: `python -m bot.filing.seed [--url URL]`."""
from __future__ import annotations

import argparse
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.filing.models import (
    FILING_SERVICE_NAME,
    Account,
    CloudRunService,
    Environment,
    FilingIp,
    FilingOrder,
    HostingService,
    OrderStatus,
    ResourcePack,
    SenderBinding,
    ServiceFilingStatus,
    SubjectType,
    WebsiteFiling,
)
from bot.settings import settings as current_settings
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema

DEMO_ACCOUNT_ID = "acct-demo"
# The simulator's default user (scripts/wechat_sim.py), the same id on WeChat and WeCom.
DEMO_SIMULATOR_USER = "o_sim_demo"
# Conversations the seed binds to the demo account, so the README's examples show details:
# the web chat's demo session, the README's curl sender, the simulator's user and `make shell`.
DEMO_SENDERS = (
    "webchat:demo", "rest:me", f"wechat:{DEMO_SIMULATOR_USER}", f"wecom:{DEMO_SIMULATOR_USER}", "shell:demo",
)
_PURCHASED = datetime(2026, 1, 5, 10, 0)
_EXPIRES = datetime(2099, 1, 5, 10, 0)


def _environment(env_id: str, name: str) -> Environment:
    return Environment(id=env_id, account_id=DEMO_ACCOUNT_ID, name=name, created_at=_PURCHASED)


def _pack(expires_at: datetime = _EXPIRES) -> ResourcePack:
    return ResourcePack(purchased_at=_PURCHASED, expires_at=expires_at)


def _filing_service(status: ServiceFilingStatus, reason: str | None = None) -> CloudRunService:
    return CloudRunService(name=FILING_SERVICE_NAME, filing_status=status, filing_block_reason=reason)


# The environment whose resource pack each seeding buys anew, so it is initialising for ten minutes.
JUST_BOUGHT_ENVIRONMENT_ID = "env-demo-new"


def _rejected(order_id: str, reason: str, domain: str, name: str, day: int) -> FilingOrder:
    return FilingOrder(
        id=order_id, account_id=DEMO_ACCOUNT_ID, scenario="first_filing", status=OrderStatus.REJECTED,
        rejection_reason=reason, domain=domain, website_name=name,
        submitted_at=datetime(2026, 11, day, 10, 0), updated_at=datetime(2026, 11, day + 2, 15, 0),
    )


def demo_records(now: datetime | None = None) -> list[object]:
    """The demo account, its environments, orders, filing records and bound senders, as unsaved objects."""
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

    nopack = _environment("env-demo-nopack", "演示环境（未购买资源包）")
    nopack.services = [CloudRunService(name="web")]

    just_bought = _environment(JUST_BOUGHT_ENVIRONMENT_ID, "演示环境（刚购买资源包）")
    just_bought.resource_packs = [ResourcePack(purchased_at=now or datetime.utcnow(), expires_at=_EXPIRES)]

    noip = _environment("env-demo-noip", "演示环境（未分配IP）")
    noip.resource_packs = [_pack()]
    noip.services = [_filing_service(ServiceFilingStatus.ELIGIBLE)]

    orders = [
        FilingOrder(
            id="BA-DEMO-0001", account_id=DEMO_ACCOUNT_ID, scenario="add_website_here",
            status=OrderStatus.AUTHORITY_REVIEW, domain="shop-example.cn", website_name="示例商城",
            submitted_at=datetime(2026, 11, 10, 9, 30), updated_at=datetime(2026, 11, 12, 16, 0),
        ),
        FilingOrder(
            id="BA-DEMO-0002", account_id=DEMO_ACCOUNT_ID, scenario="first_filing",
            status=OrderStatus.REJECTED, rejection_reason="网站名称不符合要求",
            domain="blog-example.cn", website_name="最好的博客",
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
            status=OrderStatus.INITIAL_REVIEW, domain="app-example.net", website_name="示例应用",
            submitted_at=datetime(2026, 11, 25, 9, 0), updated_at=datetime(2026, 11, 25, 9, 0),
        ),
    ]
    orders += [
        _rejected("BA-DEMO-0006", "核验照片（幕布照）背景不符合要求", "photo-example.cn", "示例相册", 6),
        _rejected("BA-DEMO-0007", "电话回访未接通", "call-example.cn", "示例客服", 7),
        _rejected("BA-DEMO-0008", "域名实名信息与备案主体不一致", "name-example.cn", "示例资讯", 8),
        _rejected("BA-DEMO-0009", "请补充网站用途说明后再提交", "misc-example.cn", "示例工具", 9),
    ]
    filings = [
        WebsiteFiling(domain="example.cn", website_number="粤ICP备2026012345号-1", provider="腾讯云",
                      hosting_service=HostingService.CLOUDRUN),
        WebsiteFiling(domain="example.com.cn", website_number="粤ICP备2026012345号-2", provider="腾讯云",
                      hosting_service=HostingService.CLOUDRUN),
        WebsiteFiling(domain="example-cvm.cn", website_number="粤ICP备2026012345号-3", provider="腾讯云",
                      hosting_service=HostingService.SERVER),
        WebsiteFiling(domain="example-ali.cn", website_number="浙ICP备2019054321号-1", provider="阿里云"),
    ]
    environments = [ok, full, noservice, blocked, nopack, just_bought, noip]
    bound = [SenderBinding(sender_id=s, account_id=DEMO_ACCOUNT_ID, bound_at=now or datetime.utcnow()) for s in DEMO_SENDERS]
    return [account, *environments, *orders, *filings, *bound]


def is_empty(session: Session) -> bool:
    """Whether the database holds no account yet."""
    return session.execute(select(func.count()).select_from(Account)).scalar_one() == 0


def _exists(session: Session, record: object) -> bool:
    """Whether a demo record of the same identity is stored (its primary key, or a filing's domain)."""
    if isinstance(record, WebsiteFiling):
        found = session.execute(select(WebsiteFiling.id).where(WebsiteFiling.domain == record.domain)).first()
        return found is not None
    if isinstance(record, SenderBinding):
        return session.get(SenderBinding, record.sender_id) is not None  # a re-bound demo sender stays re-bound
    return session.get(type(record), record.id) is not None


def refresh_just_bought_pack(session: Session, now: datetime) -> None:
    """Buy the initialising environment's pack anew, so its ten minutes start now."""
    environment = session.get(Environment, JUST_BOUGHT_ENVIRONMENT_ID)
    if environment is not None and environment.resource_packs:
        environment.resource_packs[0].purchased_at = now


def seed_demo_data(session: Session, now: datetime | None = None) -> bool:
    """Add the demo records that are missing, leaving stored ones as they are; returns whether any was added.

    Runs on every `make run`: a database from an older version gets the newer demo records,
    and the just-bought environment starts its ten minutes again.
    """
    now = now or datetime.utcnow()
    missing = [record for record in demo_records(now) if not _exists(session, record)]
    session.add_all(missing)
    session.flush()
    refresh_just_bought_pack(session, now)
    session.commit()
    return bool(missing)


def main(argv: list[str] | None = None) -> None:
    """Create the schema and load the demo data into an empty database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=None, help="database URL (default: FILING_DB_URL or var/filing.db)")
    args = parser.parse_args(argv)
    url = args.url or current_settings().filing_db_url
    engine = make_engine(url)
    create_schema(engine)
    with session_factory(engine)() as session:
        seeded = seed_demo_data(session)
    engine.dispose()
    print("added the missing demo records" if seeded else "demo records already present; kept as they are")


if __name__ == "__main__":
    main()
