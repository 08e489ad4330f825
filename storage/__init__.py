"""Persistence for paybot: SQLAlchemy Core over aiosqlite (default) or asyncpg, Alembic migrations.

Nothing outside this package writes SQL; callers use :class:`storage.Repository`.
"""

from storage.database import STORAGE_ERRORS, Database, database_url_for_async
from storage.models import (
    Check,
    CheckOutcome,
    DaySummary,
    EventOutcome,
    Link,
    LinkStatus,
    NewLink,
    Notification,
    NotificationKind,
    NotificationStatus,
    SessionEvent,
    SessionTruth,
)
from storage.repository import Repository

__all__ = [
    "STORAGE_ERRORS",
    "Check",
    "CheckOutcome",
    "Database",
    "DaySummary",
    "EventOutcome",
    "Link",
    "LinkStatus",
    "NewLink",
    "Notification",
    "NotificationKind",
    "NotificationStatus",
    "Repository",
    "SessionEvent",
    "SessionTruth",
    "database_url_for_async",
]
