"""Payment links: the merchant's /pay, its Xendit session, its card, and the chat's lists
and totals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, Update, and_, case, func, or_, select, update

from storage.common import insert, link_of, utcnow
from storage.database import Database
from storage.models import DaySummary, Link, LinkStatus, NewLink, Notification, Scope
from storage.outbox import claim_card
from storage.tables import links

#: How far apart in time the drafts of one /pay question can have been stored, at most.
_QUESTION_SPAN = timedelta(minutes=10)


class DuplicateReference(Exception):
    """A link with the same short reference exists already (the caller draws a new one)."""


def _activate(
    link_id: int,
    *,
    session_id: str,
    link_url: str,
    expires_at: datetime,
    now: datetime,
    card_message_id: int | None,
) -> Update:
    """Record the session Xendit made; PENDING becomes ACTIVE, a status a webhook set stays."""
    return (
        update(links)
        .where(links.c.id == link_id)
        .values(
            session_id=session_id,
            link_url=link_url,
            expires_at=expires_at,
            updated_at=now,
            status=case(
                (links.c.status == LinkStatus.PENDING.value, LinkStatus.ACTIVE.value),
                else_=links.c.status,
            ),
            card_message_id=func.coalesce(card_message_id, links.c.card_message_id),
        )
        .returning(links)
    )


def _in(scope: Scope) -> Any:
    """The links of a scope: the shop's, and of one member for staff."""
    if scope.user_id is None:
        return links.c.shop_id == scope.shop_id
    return and_(links.c.shop_id == scope.shop_id, links.c.user_id == scope.user_id)


def _fetch_link(conn: Connection, query: Select[Any]) -> Link | None:
    row = conn.execute(query).first()
    return link_of(row) if row is not None else None


class Links:
    """The links, from the /pay that stores one to the chat's reports."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    async def create_link(self, new: NewLink) -> Link:
        """Store a link as PENDING, before anything is asked of Xendit."""
        now = self._clock()
        status = LinkStatus.DRAFT if new.draft else LinkStatus.PENDING
        statement = (
            insert(self._db.dialect, links)
            .values(
                shop_id=new.shop_id,
                member_name=new.member_name,
                short_ref=new.short_ref,
                reference_id=new.reference_id,
                chat_id=new.chat_id,
                user_id=new.user_id,
                language=new.language,
                amount_minor=new.amount_minor,
                currency=new.currency,
                description=new.description,
                return_token=new.return_token,
                merchant_name=new.merchant_name,
                status=status.value,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
            .returning(links)
        )
        row = await self._db.transaction(lambda conn: conn.execute(statement).first())
        if row is None:
            raise DuplicateReference(new.short_ref)
        return link_of(row)

    async def activate_link(
        self,
        link_id: int,
        *,
        session_id: str,
        link_url: str,
        expires_at: datetime,
        card_message_id: int | None = None,
    ) -> Link:
        """Record the session Xendit made (and the card that shows it, if there is one yet).
        A webhook that came first is not undone."""
        statement = _activate(
            link_id,
            session_id=session_id,
            link_url=link_url,
            expires_at=expires_at,
            now=self._clock(),
            card_message_id=card_message_id,
        )
        return await self._db.transaction(lambda conn: link_of(conn.execute(statement).one()))

    async def open_link(
        self,
        link_id: int,
        *,
        session_id: str,
        link_url: str,
        expires_at: datetime,
        lease: timedelta = timedelta(seconds=60),
    ) -> tuple[Link, Notification | None]:
        """Record the session Xendit made and queue the link's card, in one transaction.

        The card comes back claimed for ``lease`` (None if someone else holds it): the
        caller sends it at once and marks it (``Outbox.card_sent``); if the caller fails or
        dies, the outbox worker sends it when the lease ends.
        """
        now = self._clock()
        statement = _activate(
            link_id,
            session_id=session_id,
            link_url=link_url,
            expires_at=expires_at,
            now=now,
            card_message_id=None,
        )

        def write(conn: Connection) -> tuple[Link, Notification | None]:
            link = link_of(conn.execute(statement).one())
            return link, claim_card(conn, link, now, now + lease)

        return await self._db.transaction(write)

    async def mark_outcome_unknown(
        self, link_id: int, failure: str, *, lease: timedelta = timedelta(seconds=60)
    ) -> tuple[Link, Notification | None]:
        """Xendit got the request but its answer never came: the session may exist. The link
        stays PENDING (a webhook naming its reference finds it) and its card, which says so,
        is queued and claimed as in :meth:`open_link`."""
        now = self._clock()

        def write(conn: Connection) -> tuple[Link, Notification | None]:
            conn.execute(
                update(links)
                .where(and_(links.c.id == link_id, links.c.status == LinkStatus.PENDING.value))
                .values(failure=failure[:1000], updated_at=now)
            )
            link = link_of(conn.execute(select(links).where(links.c.id == link_id)).one())
            return link, claim_card(conn, link, now, now + lease)

        return await self._db.transaction(write)

    async def fail_link(self, link_id: int, failure: str) -> Link:
        """Mark a link whose session could not be made."""
        now = self._clock()

        def write(conn: Connection) -> Link | None:
            conn.execute(
                update(links)
                .where(and_(links.c.id == link_id, links.c.status == LinkStatus.PENDING.value))
                .values(status=LinkStatus.FAILED.value, failure=failure, updated_at=now)
            )
            return _fetch_link(conn, select(links).where(links.c.id == link_id))

        link = await self._db.transaction(write)
        assert link is not None
        return link

    async def get_link(self, link_id: int) -> Link | None:
        query = select(links).where(links.c.id == link_id)
        return await self._db.read(lambda conn: _fetch_link(conn, query))

    async def get_link_by_return_token(self, token: str) -> Link | None:
        query = select(links).where(links.c.return_token == token)
        return await self._db.read(lambda conn: _fetch_link(conn, query))

    async def get_link_by_ref(self, short_ref: str) -> Link | None:
        query = select(links).where(links.c.short_ref == short_ref.upper())
        return await self._db.read(lambda conn: _fetch_link(conn, query))

    async def set_card_message(self, link_id: int, message_id: int) -> None:
        def write(conn: Connection) -> None:
            conn.execute(
                update(links).where(links.c.id == link_id).values(card_message_id=message_id)
            )

        await self._db.transaction(write)

    async def settle_drafts(self, link_id: int, *, confirm: bool) -> list[int]:
        """Confirm (DRAFT -> PENDING) or discard a draft, and discard the other drafts on the
        same card (the readings of one unclear /pay), in one transaction.

        Returns the ids of the drafts it moved, or ``[]`` if ``link_id`` was no longer a draft
        (a second tap, or another reading chosen first): whatever is tapped, however often and
        on however many instances, at most one reading becomes a link.
        """
        chosen = (LinkStatus.PENDING if confirm else LinkStatus.CANCELED).value

        def write(conn: Connection) -> list[int]:
            row = conn.execute(
                select(links.c.chat_id, links.c.card_message_id, links.c.created_at).where(
                    links.c.id == link_id
                )
            ).first()
            if row is None:
                return []
            group = links.c.id == link_id
            if row.card_message_id is not None:
                # The drafts of one question were stored by one /pay, moments apart: the time
                # bound lets the (chat_id, created_at) index find them in a chat of many links.
                group = or_(
                    group,
                    and_(
                        links.c.chat_id == row.chat_id,
                        links.c.created_at.between(
                            row.created_at - _QUESTION_SPAN, row.created_at + _QUESTION_SPAN
                        ),
                        links.c.card_message_id == row.card_message_id,
                    ),
                )
            query = select(links.c.id, links.c.status).where(group).order_by(links.c.id)
            # Locked in id order (on PostgreSQL; SQLite has one writer), so two taps on two
            # readings wait for each other (no deadlock) and the second sees the first's outcome.
            rows = conn.execute(query.with_for_update()).all()
            drafts = [r.id for r in rows if r.status == LinkStatus.DRAFT.value]
            if link_id not in drafts:
                return []
            conn.execute(
                update(links)
                .where(links.c.id.in_(drafts))
                .values(
                    status=case((links.c.id == link_id, chosen), else_=LinkStatus.CANCELED.value),
                    updated_at=self._clock(),
                )
            )
            return drafts

        return await self._db.transaction(write)

    async def page_of_links(
        self, scope: Scope, *, waiting_only: bool, offset: int, limit: int
    ) -> tuple[list[Link], int]:
        """A page of the scope's links, newest first, and how many there are in all."""
        condition = _in(scope)
        if waiting_only:
            condition = and_(condition, links.c.status == LinkStatus.ACTIVE.value)
        else:
            condition = and_(
                condition, links.c.status.not_in([LinkStatus.DRAFT.value, LinkStatus.FAILED.value])
            )

        def read(conn: Connection) -> tuple[list[Link], int]:
            total = int(conn.scalar(select(func.count()).select_from(links).where(condition)) or 0)
            rows = conn.execute(
                select(links)
                .where(condition)
                .order_by(links.c.created_at.desc(), links.c.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [link_of(row) for row in rows], total

        return await self._db.read(read)

    async def day_summary(self, scope: Scope, start: datetime, end: datetime) -> DaySummary:
        """Paid between ``start`` and ``end``, and what is still waiting now."""

        def read(conn: Connection) -> tuple[Any, Any]:
            paid = conn.execute(
                select(func.count(), func.coalesce(func.sum(links.c.amount_minor), 0)).where(
                    and_(
                        _in(scope),
                        links.c.status == LinkStatus.COMPLETED.value,
                        links.c.paid_at >= start,
                        links.c.paid_at < end,
                    )
                )
            ).one()
            waiting = conn.execute(
                select(func.count(), func.coalesce(func.sum(links.c.amount_minor), 0)).where(
                    and_(
                        _in(scope),
                        links.c.status == LinkStatus.ACTIVE.value,
                    )
                )
            ).one()
            return paid, waiting

        paid, waiting = await self._db.read(read)
        return DaySummary(
            paid_count=int(paid[0]),
            paid_minor=int(paid[1]),
            waiting_count=int(waiting[0]),
            waiting_minor=int(waiting[1]),
        )

    async def links_created_between(
        self, scope: Scope, start: datetime, end: datetime
    ) -> list[Link]:
        query = (
            select(links)
            .where(
                and_(
                    _in(scope),
                    links.c.created_at >= start,
                    links.c.created_at < end,
                    links.c.status != LinkStatus.DRAFT.value,
                )
            )
            .order_by(links.c.created_at, links.c.id)
        )
        return await self._db.read(lambda conn: [link_of(row) for row in conn.execute(query)])

    async def links_of_user(self, user_id: int, *, limit: int = 10) -> list[Link]:
        query = (
            select(links)
            .where(links.c.user_id == user_id)
            .order_by(links.c.created_at.desc(), links.c.id.desc())
            .limit(limit)
        )
        return await self._db.read(lambda conn: [link_of(row) for row in conn.execute(query)])
