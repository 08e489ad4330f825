"""Persistence for paybot: SQLAlchemy Core over sqlite3 (default) or asyncpg, Alembic migrations.

Nothing outside this package writes SQL; callers use the stores, one per thing stored:
:class:`Links`, :class:`Events` (webhooks and session checks), :class:`Outbox` and
:class:`Users`, each built from the :class:`Database`.
"""

from storage.common import utcnow
from storage.database import STORAGE_ERRORS, Database, database_url_with_driver
from storage.events import COMPLETION, Events
from storage.links import DuplicateReference, Links
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
from storage.outbox import Outbox
from storage.users import Users

__all__ = [
    "COMPLETION",
    "STORAGE_ERRORS",
    "Check",
    "CheckOutcome",
    "Database",
    "DaySummary",
    "DuplicateReference",
    "EventOutcome",
    "Events",
    "Link",
    "LinkStatus",
    "Links",
    "NewLink",
    "Notification",
    "NotificationKind",
    "NotificationStatus",
    "Outbox",
    "SessionEvent",
    "SessionTruth",
    "Users",
    "database_url_with_driver",
    "utcnow",
]
