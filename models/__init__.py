"""Database tables (SQLModel). Data only: no I/O, no Textual."""

from models.tables import (
    Attachment,
    Case,
    CaseEvent,
    CaseLink,
    CaseState,
    Deployment,
    Escalation,
    Operator,
    PolicyVersionRow,
    ProductVersion,
    PurgeAudit,
    Subscriber,
    SubscriberSuspension,
    SupportUser,
    SuspensionLift,
    TimeEntry,
)

__all__ = [
    "Attachment",
    "Case",
    "CaseEvent",
    "CaseLink",
    "CaseState",
    "Deployment",
    "Escalation",
    "Operator",
    "PolicyVersionRow",
    "ProductVersion",
    "PurgeAudit",
    "Subscriber",
    "SubscriberSuspension",
    "SupportUser",
    "SuspensionLift",
    "TimeEntry",
]
