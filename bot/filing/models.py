"""Persistent model of what the seed describes: 主体, environments, services, IPs, orders."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, DateTime, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

# The one 云托管 service whose 域名备案 status decides whether an environment can file.
FILING_SERVICE_NAME = "tcb-beian-auto"
FILINGS_PER_IP = 2
INITIALISATION_MINUTES = 10


class SubjectType(str, enum.Enum):
    """Who the filing 主体 is."""

    PERSON = "person"
    ORGANISATION = "organisation"


class ServiceFilingStatus(str, enum.Enum):
    """The 域名备案 status shown under 服务配置 of tcb-beian-auto."""

    ELIGIBLE = "eligible"  # 可备案
    INELIGIBLE = "ineligible"  # 不可备案


class OrderStatus(str, enum.Enum):
    """Steps of a filing order."""

    INITIAL_REVIEW = "initial_review"  # 初审
    AUTHORITY_REVIEW = "authority_review"  # 管局审核
    APPROVED = "approved"  # 已通过
    REJECTED = "rejected"  # 驳回


ORDER_STATUS_LABELS = {
    OrderStatus.INITIAL_REVIEW: "初审",
    OrderStatus.AUTHORITY_REVIEW: "管局审核",
    OrderStatus.APPROVED: "已通过",
    OrderStatus.REJECTED: "驳回",
}

# Orders that hold one of an IP's filing slots.
SLOT_HOLDING_STATUSES = (
    OrderStatus.INITIAL_REVIEW,
    OrderStatus.AUTHORITY_REVIEW,
    OrderStatus.APPROVED,
)


def _enum(kind: type[enum.Enum]) -> Enum:
    # Store the enum's value (not its name) and keep a plain VARCHAR on every dialect.
    return Enum(kind, values_callable=lambda k: [m.value for m in k], native_enum=False, length=32)


class Account(Base):
    """A cloud account and its filing 主体."""

    __tablename__ = "accounts"

    id = Column(String(64), primary_key=True)
    subject_name = Column(String(200), nullable=False)
    subject_type = Column(_enum(SubjectType), nullable=False)
    subject_number = Column(String(64))  # 主体备案号 once filed
    filed_at_provider = Column(String(64))  # where the 主体 was filed, if anywhere

    environments = relationship("Environment", back_populates="account", order_by="Environment.id")


class Environment(Base):
    """A CloudBase (云开发) environment."""

    __tablename__ = "environments"

    id = Column(String(64), primary_key=True)
    account_id = Column(String(64), ForeignKey("accounts.id"), nullable=False)
    name = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False)

    account = relationship("Account", back_populates="environments")
    resource_packs = relationship(
        "ResourcePack", back_populates="environment", order_by="ResourcePack.purchased_at"
    )
    services = relationship("CloudRunService", back_populates="environment", order_by="CloudRunService.name")
    filing_ips = relationship("FilingIp", back_populates="environment", order_by="FilingIp.address")


class ResourcePack(Base):
    """A purchased 云托管资源包 that makes an environment eligible for filing."""

    __tablename__ = "resource_packs"

    id = Column(Integer, primary_key=True, autoincrement=True)
    environment_id = Column(String(64), ForeignKey("environments.id"), nullable=False)
    purchased_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)

    environment = relationship("Environment", back_populates="resource_packs")


class CloudRunService(Base):
    """A 云托管 service; tcb-beian-auto carries the 域名备案 status."""

    __tablename__ = "cloudrun_services"

    id = Column(Integer, primary_key=True, autoincrement=True)
    environment_id = Column(String(64), ForeignKey("environments.id"), nullable=False)
    name = Column(String(100), nullable=False)
    filing_status = Column(_enum(ServiceFilingStatus))
    filing_block_reason = Column(String(500))

    environment = relationship("Environment", back_populates="services")


class FilingIp(Base):
    """A filing-eligible IP granted to an environment."""

    __tablename__ = "filing_ips"

    id = Column(Integer, primary_key=True, autoincrement=True)
    environment_id = Column(String(64), ForeignKey("environments.id"), nullable=False)
    address = Column(String(64), nullable=False, unique=True)
    filings_allowed = Column(Integer, nullable=False, default=FILINGS_PER_IP)

    environment = relationship("Environment", back_populates="filing_ips")
    orders = relationship("FilingOrder", back_populates="filing_ip", order_by="FilingOrder.id")

    def __init__(self, **kwargs: object) -> None:
        # Column defaults apply only on INSERT; an IP not saved yet still allows FILINGS_PER_IP.
        kwargs.setdefault("filings_allowed", FILINGS_PER_IP)
        super().__init__(**kwargs)


class FilingOrder(Base):
    """A filing order (备案订单) and where it stands."""

    __tablename__ = "filing_orders"

    id = Column(String(64), primary_key=True)
    account_id = Column(String(64), ForeignKey("accounts.id"), nullable=False)
    filing_ip_id = Column(Integer, ForeignKey("filing_ips.id"))
    scenario = Column(String(64), nullable=False)  # a scenario key of the knowledge base
    status = Column(_enum(OrderStatus), nullable=False)
    rejection_reason = Column(Text)
    domain = Column(String(255))
    website_name = Column(String(200))
    subject_number = Column(String(64))  # issued on approval
    website_number = Column(String(64))  # issued on approval
    submitted_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False, default=datetime.utcnow)

    filing_ip = relationship("FilingIp", back_populates="orders")


class HostingService(str, enum.Enum):
    """The cloud service a filing was made for at this provider."""

    CLOUDRUN = "cloudrun"  # 云托管
    SERVER = "server"  # 云服务器 and other server products


class WebsiteFiling(Base):
    """A filed website as the public record shows it: domain, number and who holds the access."""

    __tablename__ = "website_filings"

    id = Column(Integer, primary_key=True, autoincrement=True)
    domain = Column(String(255), nullable=False, unique=True)  # registrable domain, lower case
    website_number = Column(String(64), nullable=False)
    provider = Column(String(64), nullable=False)  # the provider holding the access record
    hosting_service = Column(_enum(HostingService))  # set for filings at this provider


class SenderBinding(Base):
    """A conversation (a channel-qualified sender id) proven to act for a cloud account."""

    __tablename__ = "sender_bindings"

    sender_id = Column(String(255), primary_key=True)  # the tracker id, e.g. "wechat:<openid>"
    account_id = Column(String(64), ForeignKey("accounts.id"), nullable=False, index=True)
    bound_at = Column(DateTime, nullable=False)


class BindingCode(Base):
    """A one-time code the cloud console shows an account's owner; redeeming it binds a sender."""

    __tablename__ = "binding_codes"

    code_hash = Column(String(64), primary_key=True)  # sha256 of the code: a leaked table binds nothing
    account_id = Column(String(64), ForeignKey("accounts.id"), nullable=False)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime)
    used_by = Column(String(255))  # the sender it bound
