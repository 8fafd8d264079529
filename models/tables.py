"""SQLModel tables: data only.

Instants are integer epoch seconds UTC (``BigInteger``) in columns named ``*_at`` (plus
``at``, ``valid_until`` and ``next_due``); calendar dates are ``Date``.

The metadata carries a naming convention so every constraint has a stable name: SQLite's
batch migrations can only drop or alter constraints they can name.
"""

from datetime import date
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _json(*, nullable: bool) -> Any:
    """A fresh JSON column (a Column object can belong to one table only)."""
    return Column(JSON, nullable=nullable)


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Core ``Table`` (what SQLModel sets as ``__table__``, which its typing
    does not declare), for the Core queries of the hot paths."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


class Subscriber(SQLModel, table=True):
    __tablename__ = "subscriber"

    id: str = Field(primary_key=True)
    name: str
    plan: str  # "enterprise" | "basic"
    coverage: str  # "business" | "24x7"
    timezone: str | None = None
    # A country code ("US", "US-NY") or a list of ISO dates.
    holidays: str | list[str] | None = Field(default=None, sa_column=_json(nullable=True))
    query_hour_limit: float | None = None
    term_start: date
    term_end: date
    terminated_at: int | None = Field(default=None, sa_type=BigInteger)
    targets: dict[str, Any] = Field(default_factory=dict, sa_column=_json(nullable=False))


class SubscriberSuspension(SQLModel, table=True):
    __tablename__ = "subscriber_suspension"

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: str = Field(foreign_key="subscriber.id", index=True)
    reason: str
    from_at: int = Field(sa_type=BigInteger)
    until_at: int | None = Field(default=None, sa_type=BigInteger)
    by: str | None = None
    recorded_at: int = Field(sa_type=BigInteger)


class SuspensionLift(SQLModel, table=True):
    """A lead lifted a subscriber's suspension at ``at`` (policy §6). Lifting appends this
    record instead of changing the suspension: the suspension tables are change records,
    which nobody but the owner may update, and ``--as-known-at`` sees the lift only from
    when it was recorded."""

    __tablename__ = "suspension_lift"

    id: int | None = Field(default=None, primary_key=True)
    suspension_id: int = Field(foreign_key="subscriber_suspension.id", index=True)
    at: int = Field(sa_type=BigInteger)
    by: str | None = None
    recorded_at: int = Field(sa_type=BigInteger)


class Deployment(SQLModel, table=True):
    __tablename__ = "deployment"

    id: str = Field(primary_key=True)
    subscriber_id: str = Field(foreign_key="subscriber.id", index=True)
    environment: str  # "production" | "pre-production"
    managed: bool
    product: str
    version: str
    # The managed third-party components Konneqt administers inside it (policy §5).
    components: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default=text("'[]'"))
    )


class SupportUser(SQLModel, table=True):
    """A subscriber's portal user. Removal keeps the row (``removed_at``/``removed_by``);
    the retention purge (policy §11) deletes the row 90 days after termination."""

    __tablename__ = "support_user"

    id: str = Field(primary_key=True)
    subscriber_id: str = Field(foreign_key="subscriber.id", index=True)
    name: str | None = None
    email: str | None = None
    admin: bool = False
    # Who added/removed the user: a support-user id (an admin of the subscriber) or an
    # operator (a lead). Null for users loaded by import without that information.
    added_by: str | None = None
    added_at: int | None = Field(default=None, sa_type=BigInteger)
    removed_by: str | None = None
    removed_at: int | None = Field(default=None, sa_type=BigInteger)


_case_version = Column("version", Integer, nullable=False, server_default=text("1"))


class Case(SQLModel, table=True):
    """A support case as reported; what happened since lives in ``CaseEvent``.

    ``version`` is SQLAlchemy's optimistic-concurrency counter: a flush that updates a
    row someone else changed meanwhile raises ``StaleDataError``.
    """

    __tablename__ = "support_case"
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": _case_version}

    id: str = Field(primary_key=True)
    subscriber_id: str = Field(foreign_key="subscriber.id", index=True)
    deployment_id: str | None = Field(default=None, foreign_key="deployment.id")
    type: str
    priority: str | None = None  # as reported (the initial priority)
    title: str
    reported_at: int = Field(sa_type=BigInteger)
    aware_at: int | None = Field(default=None, sa_type=BigInteger)
    level: str  # initial level, "L1".."L4"
    konneqt_initiated: bool = False
    criterion: str | None = None  # the §9 guideline that decided the priority, if classified
    # The managed third-party component a P0 incident names (policy §5), as reported.
    component: str | None = None
    opened_by: str | None = None
    # When the store took the case (policy §14): ``--as-known-at`` leaves out later ones.
    recorded_at: int | None = Field(default=None, sa_type=BigInteger)
    version: int = Field(default=1, sa_column=_case_version)


class CaseLink(SQLModel, table=True):
    __tablename__ = "case_link"

    case_id: str = Field(foreign_key="support_case.id", primary_key=True)
    linked_case_id: str = Field(foreign_key="support_case.id", primary_key=True)


class CaseEvent(SQLModel, table=True):
    """One fact in a case's history; ``id`` is the record order."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case_id_at_id", "case_id", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    # Indexed by the (case_id, at, id) index above.
    case_id: str = Field(foreign_key="support_case.id")
    at: int = Field(sa_type=BigInteger)
    kind: str
    by: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=_json(nullable=False))
    recorded_at: int = Field(sa_type=BigInteger)
    # The login that wrote the row (on PostgreSQL set by the database from session_user):
    # differs from ``by`` for a sweep's escalation and for a lead's import.
    recorded_by: str | None = None


class CaseState(SQLModel, table=True):
    """Projection of a case's events (status, clocks, earliest due); rebuildable."""

    __tablename__ = "case_state"
    # The queue reads only listed cases, through these (migration 0011_queue_speed):
    # history (closed cases) is never scanned.
    __table_args__ = (
        Index("ix_case_state_listed_next_due", "listed", "next_due"),
        Index("ix_case_state_listed_reported_at", "listed", "reported_at"),
        Index("ix_case_state_listed_anchor_at", "listed", "anchor_at"),
        Index("ix_case_state_listed_valid_until", "listed", "valid_until"),
        Index("ix_case_state_listed_escalate_at", "listed", "escalate_at"),
    )

    case_id: str = Field(foreign_key="support_case.id", primary_key=True)
    subscriber_id: str = Field(index=True)
    status: str
    type: str
    priority: str | None = None
    level: str
    listed: bool  # false once closed; leads every index above
    reported_at: int = Field(sa_type=BigInteger)
    anchor_at: int = Field(sa_type=BigInteger)
    valid_until: int | None = Field(default=None, sa_type=BigInteger)
    next_due: int | None = Field(default=None, sa_type=BigInteger)
    clocks: dict[str, Any] = Field(default_factory=dict, sa_column=_json(nullable=False))
    # The case has an ``escalated`` event: always marked, whatever its clocks say now.
    escalated: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    # The latest ``recorded_at`` of the case and its events: the projection shows what the
    # desk knew at any instant from then on (``--as-known-at``); earlier, replay the events.
    recorded_upto: int | None = Field(default=None, sa_type=BigInteger)
    # The case's title and deployment, as in support_case (both fixed at creation): the
    # queue reads case_state alone, with no join per listed case.
    title: str = Field(default="", sa_column_kwargs={"server_default": text("''")})
    deployment_id: str | None = None
    # An incident falls due for escalation at this instant if nothing more happens
    # (``console.projection.escalate_at``); a sweep reads ``escalate_at <= now`` by index.
    escalate_at: int | None = Field(default=None, sa_type=BigInteger)
    # Grows with every write of this row (``console.records.next_rev``): a console re-reads
    # the rows written since its last read (``rev > last``) instead of the whole queue.
    rev: int = Field(
        default=0, sa_type=BigInteger, index=True, sa_column_kwargs={"server_default": text("0")}
    )
    # Who the case is assigned to (the last ``assigned`` event's ``to``; policy §10): the
    # queue's column and its "mine"/"unassigned" filters read it without the events.
    assignee: str | None = None
    # A listed case's ``queue --json`` entry at its anchor as a template with slots for
    # what moves with time (``console.output.queue_template``); NULL once closed.
    queue_json: str | None = Field(default=None, sa_type=Text)


class TimeEntry(SQLModel, table=True):
    __tablename__ = "time_entry"
    __table_args__ = (
        Index("ix_time_entry_subscriber_id_at", "subscriber_id", "at"),
        Index("ix_time_entry_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="support_case.id", index=True)
    event_id: int = Field(foreign_key="case_event.id", unique=True)
    subscriber_id: str = Field(index=True)
    at: int = Field(sa_type=BigInteger)
    hours: float
    exempt: bool
    note: str | None = None
    by: str | None = None


class Escalation(SQLModel, table=True):
    """One row per escalated incident; the primary key makes it exactly once (policy §7)."""

    __tablename__ = "escalation"

    case_id: str = Field(foreign_key="support_case.id", primary_key=True)
    subscriber_id: str = Field(index=True)
    missed: str  # workaround | resolution: the first target missed
    escalated_at: int = Field(sa_type=BigInteger)  # when the target was missed
    recorded_at: int = Field(sa_type=BigInteger)
    by: str | None = None


class Operator(SQLModel, table=True):
    """A console user's role; someone with no row is an engineer."""

    __tablename__ = "operator"

    name: str = Field(primary_key=True)
    role: str  # engineer | lead | executive
    updated_at: int = Field(sa_type=BigInteger)
    updated_by: str | None = None


class Attachment(SQLModel, table=True):
    """A file attached to a case: a reference to ``path`` with its name, size and hash."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="support_case.id", index=True)
    name: str
    size: int = Field(sa_type=BigInteger)
    sha256: str
    path: str
    added_at: int = Field(sa_type=BigInteger)
    added_by: str | None = None


class PurgeAudit(SQLModel, table=True):
    """One retention purge (policy §11): what it removed, as counts and ids, never PII."""

    __tablename__ = "purge_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: int = Field(sa_type=BigInteger)  # the instant the purge was judged at
    recorded_at: int = Field(sa_type=BigInteger)
    by: str | None = None
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=_json(nullable=False))
    ids: dict[str, Any] = Field(default_factory=dict, sa_column=_json(nullable=False))


class ProductVersion(SQLModel, table=True):
    """The support matrix (policy §12): one row per product version."""

    __tablename__ = "product_version"

    product: str = Field(primary_key=True)
    version: str = Field(primary_key=True)
    released: date
    discontinuation_notice: date | None = None
    updated_at: int | None = Field(default=None, sa_type=BigInteger)
    updated_by: str | None = None


class PolicyVersionRow(SQLModel, table=True):
    """One published version of the desk's policy (policy §14): the TOML text as published,
    in force from ``effective_at``. Rows are only ever added."""

    __tablename__ = "policy_version"

    number: int = Field(primary_key=True)
    effective_at: int = Field(sa_type=BigInteger)
    text: str
    sha256: str
    reason: str
    by: str | None = None
    recorded_at: int = Field(sa_type=BigInteger)


class NotifyReceiver(SQLModel, table=True):
    """Where notifications go (an apprise URL) and which ones: set by leads.

    ``url`` holds secrets (tokens, passwords): shown masked to everyone, in full to leads
    only. ``kinds`` is a list of escalation | breach | forecast | late_update;
    ``subscribers`` and ``priorities`` (lists) narrow it, null meaning all. A removed
    receiver keeps its row (``removed_at``) so its messages stay explained.
    """

    __tablename__ = "notify_receiver"

    id: int | None = Field(default=None, primary_key=True)
    url: str
    kinds: list[str] = Field(default_factory=list, sa_column=_json(nullable=False))
    subscribers: list[str] | None = Field(default=None, sa_column=_json(nullable=True))
    priorities: list[str] | None = Field(default=None, sa_column=_json(nullable=True))
    lead_time: int = Field(default=1800, sa_type=BigInteger)  # forecast: seconds before due
    timezone: str  # the receiver's zone (IANA): the time in each message
    created_at: int = Field(sa_type=BigInteger)
    created_by: str | None = None
    removed_at: int | None = Field(default=None, sa_type=BigInteger)
    removed_by: str | None = None


class NotifyOutbox(SQLModel, table=True):
    """One message to one receiver, written in the transaction of the event that causes it
    (an escalation) or by the sweep that detects it (a breach, a forecast, a late status
    update). The unique (receiver, case, clock, kind, period) makes it at most one row
    however many sweeps see the same thing. Deliverers claim a row (``status`` sending,
    ``claim_token``, ``lease_until``), send it, then mark it sent, retry it later
    (``next_attempt_at``) or, after the last try, failed.
    """

    __tablename__ = "notify_outbox"
    __table_args__ = (
        UniqueConstraint(
            "receiver_id", "case_id", "clock", "kind", "period", name="uq_notify_outbox_message"
        ),
        Index("ix_notify_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    receiver_id: int = Field(foreign_key="notify_receiver.id")
    kind: str  # escalation | breach | forecast | late_update
    case_id: str  # "" for a message about no case
    clock: str  # the clock concerned; "" when none
    period: int = Field(sa_type=BigInteger)  # tells apart repeats of one clock (see notify.detect)
    event_at: int = Field(sa_type=BigInteger)  # the instant the message is about
    created_at: int = Field(sa_type=BigInteger)
    title: str
    body: str
    status: str  # pending | sending | sent | failed | cancelled
    attempts: int = 0
    next_attempt_at: int = Field(sa_type=BigInteger)  # machine clock, seconds
    lease_until: int | None = Field(default=None, sa_type=BigInteger)
    claim_token: str | None = None
    claimed_by: str | None = None
    last_error: str | None = None
    sent_at: int | None = Field(default=None, sa_type=BigInteger)


class SubscriberChange(SQLModel, table=True):
    """A dated change of a subscriber's facts (policy §14): in force from ``effective_at``,
    never before it. ``facts`` maps each changed fact (plan, coverage, timezone, holidays,
    targets, query_hour_limit, term_start, term_end, terminated_at) to its new value as
    the interchange file writes it. Rows are only ever added."""

    __tablename__ = "subscriber_change"

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: str = Field(foreign_key="subscriber.id", index=True)
    effective_at: int = Field(sa_type=BigInteger)
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=_json(nullable=False))
    reason: str
    by: str | None = None
    recorded_at: int = Field(sa_type=BigInteger)


class DeploymentChange(SQLModel, table=True):
    """A dated change of a deployment's facts (environment, managed, product, version)."""

    __tablename__ = "deployment_change"

    id: int | None = Field(default=None, primary_key=True)
    deployment_id: str = Field(foreign_key="deployment.id", index=True)
    effective_at: int = Field(sa_type=BigInteger)
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=_json(nullable=False))
    reason: str
    by: str | None = None
    recorded_at: int = Field(sa_type=BigInteger)
