"""Database tables (SQLModel). Data only: no I/O, no Textual."""

from models.tables import (
    Case,
    CaseEvent,
    CaseLink,
    CaseState,
    Deployment,
    Escalation,
    Operator,
    Subscriber,
    SubscriberSuspension,
    SupportUser,
    TimeEntry,
)

__all__ = [
    "Case",
    "CaseEvent",
    "CaseLink",
    "CaseState",
    "Deployment",
    "Escalation",
    "Operator",
    "Subscriber",
    "SubscriberSuspension",
    "SupportUser",
    "TimeEntry",
]
