"""Persistence for paybot: SQLAlchemy Core over sqlite3 (default) or asyncpg, Alembic migrations.

Nothing outside this package writes SQL; callers use the stores, one per thing stored:
:class:`Links`, :class:`Events` (webhooks and session checks), :class:`Outbox` and
:class:`Users`, :class:`Shops` (shops, members, invites), each built from the :class:`Database`.
"""

from storage.common import utcnow
from storage.database import STORAGE_ERRORS, Database, database_url_with_driver
from storage.events import COMPLETION, Events
from storage.links import DuplicateReference, Links
from storage.models import (
    AnnounceTo,
    Check,
    CheckOutcome,
    DaySummary,
    EventOutcome,
    InviteOutcome,
    Link,
    LinkStatus,
    Member,
    MemberTotals,
    NewLink,
    Notification,
    NotificationKind,
    NotificationStatus,
    Redeemed,
    Role,
    Scope,
    SessionEvent,
    SessionTruth,
    Shop,
)
from storage.outbox import Outbox
from storage.shops import Shops, ShopSeed, TeamChange
from storage.users import Users

__all__ = [
    "COMPLETION",
    "STORAGE_ERRORS",
    "AnnounceTo",
    "Check",
    "CheckOutcome",
    "Database",
    "DaySummary",
    "DuplicateReference",
    "EventOutcome",
    "Events",
    "InviteOutcome",
    "Link",
    "LinkStatus",
    "Links",
    "Member",
    "MemberTotals",
    "NewLink",
    "Notification",
    "NotificationKind",
    "NotificationStatus",
    "Outbox",
    "Redeemed",
    "Role",
    "Scope",
    "SessionEvent",
    "SessionTruth",
    "Shop",
    "ShopSeed",
    "Shops",
    "TeamChange",
    "Users",
    "database_url_with_driver",
    "utcnow",
]
