"""Database tables (SQLModel). Data only: no I/O, no Textual."""

from models.tables import (
    Attachment,
    Case,
    CaseEvent,
    CaseLink,
    CaseState,
    Deployment,
    Escalation,
    NotifyOutbox,
    NotifyReceiver,
    Operator,
    ProductVersion,
    PurgeAudit,
    Subscriber,
    SubscriberSuspension,
    SupportUser,
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
    "NotifyOutbox",
    "NotifyReceiver",
    "Operator",
    "ProductVersion",
    "PurgeAudit",
    "Subscriber",
    "SubscriberSuspension",
    "SupportUser",
    "TimeEntry",
]
