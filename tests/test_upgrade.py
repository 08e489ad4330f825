"""The upgrade of a database the previous release (revision 0006) wrote: the new bot starts on
it and loses nothing; its links become the one shop's, their makers its owners."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from bot.app import Paybot
from bot.xendit import CreateSession, XenditClient
from storage.database import Database, alembic_config
from storage.tables import (
    UTCDateTime,
    members,
    outbox,
    session_checks,
    shops,
    users,
    webhook_events,
)
from storage.tables import links as new_links
from tests.conftest import XENDIT_KEY, StartBot, handled
from tests.fakes import FakeTelegram, FakeXendit
from tests.test_core_flow import repo_of, say

GROUP = -4001
BUDI, SARI = 1001, 1002
PREVIOUS = "0006"

# -- the previous release's tables, as revisions 0001 to 0006 made them ----------------------

_old_links = sa.table(
    "links",
    sa.column("id", sa.Integer),
    sa.column("short_ref", sa.String),
    sa.column("reference_id", sa.String),
    sa.column("chat_id", sa.BigInteger),
    sa.column("user_id", sa.BigInteger),
    sa.column("language", sa.String),
    sa.column("amount_minor", sa.BigInteger),
    sa.column("currency", sa.String),
    sa.column("description", sa.Text),
    sa.column("status", sa.String),
    sa.column("session_id", sa.String),
    sa.column("link_url", sa.Text),
    sa.column("expires_at", UTCDateTime),
    sa.column("created_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
    sa.column("paid_at", UTCDateTime),
    sa.column("payment_id", sa.String),
    sa.column("payment_channel", sa.String),
    sa.column("failure", sa.Text),
    sa.column("last_checked_at", UTCDateTime),
    sa.column("card_message_id", sa.BigInteger),
    sa.column("return_token", sa.String),
    sa.column("merchant_name", sa.String),
)
_old_outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("link_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("chat_id", sa.BigInteger),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("generation", sa.Integer),
    sa.column("next_attempt_at", UTCDateTime),
    sa.column("claimed_until", UTCDateTime),
    sa.column("last_error", sa.Text),
    sa.column("created_at", UTCDateTime),
    sa.column("sent_at", UTCDateTime),
)
_old_events = sa.table(
    "webhook_events",
    sa.column("id", sa.Integer),
    sa.column("event", sa.String),
    sa.column("dedup_key", sa.String),
    sa.column("link_id", sa.Integer),
    sa.column("received_at", UTCDateTime),
    sa.column("payload", sa.Text),
)
_old_checks = sa.table(
    "session_checks",
    sa.column("link_id", sa.Integer),
    sa.column("session_id", sa.String),
    sa.column("reason", sa.String),
    sa.column("generation", sa.Integer),
    sa.column("attempts", sa.Integer),
    sa.column("due_at", UTCDateTime),
    sa.column("claimed_until", UTCDateTime),
    sa.column("last_error", sa.Text),
    sa.column("created_at", UTCDateTime),
)
_old_users = sa.table(
    "users",
    sa.column("user_id", sa.BigInteger),
    sa.column("language", sa.String),
    sa.column("updated_at", UTCDateTime),
)


def _at(minutes: int) -> datetime:
    """Whole seconds: what every backend stores exactly."""
    return (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)


def _link(
    ref: str, status: str, user_id: int, chat_id: int, name: str | None, minutes_ago: int, **kw: Any
) -> dict[str, Any]:
    created = _at(-minutes_ago)
    row: dict[str, Any] = {
        "short_ref": ref,
        "reference_id": f"pb-{ref}-0123456789ab",
        "chat_id": chat_id,
        "user_id": user_id,
        "language": "id" if user_id == SARI else "en",
        "amount_minor": 150_000 + minutes_ago,
        "currency": "IDR",
        "description": f"barang {ref.lower()}",
        "status": status,
        "session_id": None,
        "link_url": None,
        "expires_at": None,
        "created_at": created,
        "updated_at": created + timedelta(seconds=5),
        "paid_at": None,
        "payment_id": None,
        "payment_channel": None,
        "failure": None,
        "last_checked_at": None,
        "card_message_id": None,
        "return_token": f"tok-{ref}-" + "x" * 20,
        "merchant_name": name,
    }
    row.update(kw)
    return row


@dataclass
class OldData:
    """What the previous release had stored, by the refs of its links."""

    links: dict[str, dict[str, Any]]
    ids: dict[str, int]
    active_session: str

    @property
    def active(self) -> str:
        return "ACTV2222"


async def _xendit_session(xendit: FakeXendit, reference_id: str) -> tuple[str, str]:
    """A session the fake Xendit knows, as the previous release made it for its ACTIVE link."""
    client = XenditClient.create(api_url=xendit.url, secret_key=XENDIT_KEY, timeout=2.0)
    try:
        session = await client.create_session(
            CreateSession(
                reference_id=reference_id,
                amount=Decimal(150_000 + 30),
                currency="IDR",
                country="ID",
                description="barang actv2222",
                expires_at=_at(24 * 60),
            )
        )
    finally:
        await client.aclose()
    assert session.payment_link_url is not None
    return session.payment_session_id, session.payment_link_url


async def build_previous_release(url: str, xendit: FakeXendit) -> OldData:
    """A database at revision 0006 holding links in every state, made by two people in
    their private chats and in a group, with the rows that hang off them."""
    sid, link_url = await _xendit_session(xendit, "pb-ACTV2222-0123456789ab")
    rows = [
        # Made before 0004, which added merchant_name: none.
        _link("CNCL2222", "CANCELED", BUDI, BUDI, None, 60, session_id="ps-old-cncl"),
        _link("DRFT2222", "DRAFT", BUDI, BUDI, "Budi", 50, amount_minor=25_000_000),
        _link("PEND2222", "PENDING", BUDI, BUDI, "Budi", 45),
        _link(
            "UNKN2222",
            "PENDING",
            SARI,
            SARI,
            "Sari",
            40,
            failure="xendit_unknown_outcome: timed out",
        ),
        _link(
            "ACTV2222",
            "ACTIVE",
            BUDI,
            GROUP,
            "Budi",
            30,
            session_id=sid,
            link_url=link_url,
            expires_at=_at(24 * 60),
        ),
        _link(
            "PAID2222",
            "COMPLETED",
            SARI,
            GROUP,
            "Sari",
            20,
            session_id="ps-old-paid",
            link_url="https://checkout.example/ps-old-paid",
            expires_at=_at(23 * 60),
            paid_at=_at(-15),
            payment_id="py-old-paid",
            payment_channel="QRIS",
            last_checked_at=_at(-14),
            card_message_id=77,
        ),
        _link("EXPD2222", "EXPIRED", SARI, SARI, "Sari", 10, session_id="ps-old-expd"),
        _link("FAIL2222", "FAILED", SARI, SARI, "Sari", 5, failure="xendit_rejected: HTTP 400"),
    ]
    db = await Database.connect(url, migrate=False)
    try:

        def upgrade(conn: Connection) -> None:
            command.upgrade(alembic_config(conn), PREVIOUS)

        await db.change_schema(upgrade)

        def fill(conn: Connection) -> dict[str, int]:
            ids = {}
            for row in rows:
                inserted = conn.execute(_old_links.insert().values(row).returning(_old_links.c.id))
                ids[row["short_ref"]] = int(inserted.scalar_one())
            now = _at(0)
            conn.execute(
                _old_outbox.insert(),
                [
                    {
                        "link_id": ids["PAID2222"],
                        "kind": "PAID",
                        "chat_id": GROUP,
                        "status": "SENT",
                        "attempts": 1,
                        "generation": 0,
                        "next_attempt_at": _at(-15),
                        "claimed_until": None,
                        "last_error": None,
                        "created_at": _at(-15),
                        "sent_at": _at(-15),
                    },
                    {
                        "link_id": ids["ACTV2222"],
                        "kind": "CARD",
                        "chat_id": GROUP,
                        "status": "PENDING",
                        "attempts": 2,
                        "generation": 0,
                        "next_attempt_at": now,
                        "claimed_until": None,
                        "last_error": "Telegram was down",
                        "created_at": _at(-30),
                        "sent_at": None,
                    },
                ],
            )
            conn.execute(
                _old_events.insert().values(
                    event="payment_session.completed",
                    dedup_key="ps-old-paid",
                    link_id=ids["PAID2222"],
                    received_at=_at(-15),
                    payload='{"event": "payment_session.completed"}',
                )
            )
            conn.execute(
                _old_checks.insert().values(
                    link_id=ids["EXPD2222"],
                    session_id="ps-old-expd",
                    reason="webhook",
                    generation=3,
                    attempts=4,
                    due_at=_at(6 * 60),  # later than this test: it stays queued
                    claimed_until=None,
                    last_error="HTTP 503",
                    created_at=_at(-9),
                )
            )
            conn.execute(
                _old_users.insert(),
                [
                    {"user_id": SARI, "language": "id", "updated_at": _at(-100)},
                    {"user_id": BUDI, "language": "en", "updated_at": _at(-90)},
                ],
            )
            return ids

        ids = await db.transaction(fill)
    finally:
        await db.close()
    return OldData({r["short_ref"]: r for r in rows}, ids, sid)


async def _rows(app: Paybot, query: sa.Select[Any]) -> list[Mapping[str, Any]]:
    assert app.db is not None
    return await app.db.read(lambda conn: [r._mapping for r in conn.execute(query)])


async def test_the_new_bot_starts_on_the_previous_releases_database_and_loses_nothing(
    database_url: str, start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    old = await build_previous_release(database_url, xendit)
    app = await start_bot(
        allowed_user_ids=f"{BUDI},{SARI}",
        shop_name="Warung Lama",
        link_expiry="PT2H",
        timezone="Asia/Makassar",
    )

    # One shop, its settings from the environment, its group the one its links were made in.
    (shop,) = await _rows(app, sa.select(shops))
    assert shop["id"] == 1
    assert shop["name"] == "Warung Lama"
    assert shop["timezone"] == "Asia/Makassar"
    assert shop["link_expiry_seconds"] == 2 * 3600
    assert (shop["currency"], shop["country"]) == ("IDR", "ID")
    assert shop["confirm_above_minor"] == 10_000_000
    assert shop["group_chat_id"] == GROUP
    assert shop["seeded"] is True
    # Its owners: who made the links, named as their newest link named them.
    owners = await _rows(app, sa.select(members).order_by(members.c.user_id))
    assert [(m["user_id"], m["role"], m["name"], m["removed_at"]) for m in owners] == [
        (BUDI, "owner", "Budi", None),
        (SARI, "owner", "Sari", None),
    ]

    # Every link with every value it had, now the shop's and named after its maker.
    stored = {
        r["short_ref"]: r for r in await _rows(app, sa.select(new_links).order_by(new_links.c.id))
    }
    assert sorted(stored) == sorted(old.links)
    for ref, before in old.links.items():
        after = dict(stored[ref])
        assert after.pop("id") == old.ids[ref]
        assert after.pop("shop_id") == 1, ref
        assert after.pop("member_name") == before["merchant_name"], ref
        if ref == old.active:  # its card has been sent since (below)
            after["card_message_id"] = None
        assert after == before, ref
    # And what hangs off them.
    notes = await _rows(app, sa.select(outbox).order_by(outbox.c.id))
    assert [(n["link_id"], n["kind"], n["chat_id"]) for n in notes] == [
        (old.ids["PAID2222"], "PAID", GROUP),
        (old.ids["ACTV2222"], "CARD", GROUP),
    ]
    assert notes[0]["status"] == "SENT"
    events = await _rows(app, sa.select(webhook_events))
    assert [(e["event"], e["dedup_key"], e["link_id"]) for e in events] == [
        ("payment_session.completed", "ps-old-paid", old.ids["PAID2222"])
    ]
    checks = await _rows(app, sa.select(session_checks))
    assert [(c["link_id"], c["session_id"], c["generation"], c["attempts"]) for c in checks] == [
        (old.ids["EXPD2222"], "ps-old-expd", 3, 4)
    ]
    languages = await _rows(app, sa.select(users).order_by(users.c.user_id))
    assert [(u["user_id"], u["language"]) for u in languages] == [(BUDI, "en"), (SARI, "id")]

    # The card Telegram had not taken before the upgrade is delivered now, in the group.
    card = await tg.wait_message(GROUP, contains="ACTV2222")
    assert "Rp150.030" in (card.text or "")

    # /links: the owner sees the shop's links (drafts and failures are not listed).
    listed = await say(tg, "/links", user_id=BUDI)
    assert "(6)" in (listed.text or "")
    for ref in ("EXPD2222", "PAID2222", "ACTV2222", "UNKN2222", "PEND2222"):
        assert ref in (listed.text or ""), ref
    assert "DRFT2222" not in (listed.text or "")
    # Sari is still an owner, and still speaks Indonesian.
    theirs = await say(tg, "/status EXPD2222", chat_id=SARI)
    assert "EXPD2222" in (theirs.text or "")
    assert "Rp150.010" in (theirs.text or "")

    # The old ACTIVE link is still found by the webhook for its session: paid, announced.
    await xendit.complete(old.active_session)
    paid = await tg.wait_message(GROUP, contains="PAID")
    assert "Rp150.030" in (paid.text or "")
    link = await repo_of(app).get_link_by_ref(old.active)
    assert link is not None
    assert link.status.value == "COMPLETED"
    assert link.shop_id == 1

    # A new link after the upgrade: the shop's, with the settings from the environment.
    new = await say(tg, "/pay 5000 es teh", user_id=BUDI)
    assert "Rp5.000" in (new.text or "")
    made = xendit.created()[-1]
    fresh = await repo_of(app).get_link_by_reference(made["reference_id"])
    assert fresh is not None
    assert fresh.shop_id == 1
    assert fresh.id > max(old.ids.values())
    assert fresh.member_name == "Budi"
    assert fresh.merchant_name == "Warung Lama"
    assert fresh.expires_at is not None
    assert timedelta(hours=1, minutes=59) < fresh.expires_at - fresh.created_at
    assert fresh.expires_at - fresh.created_at <= timedelta(hours=2, seconds=1)


async def test_a_maker_no_longer_in_allowed_user_ids_is_removed_at_the_upgrade(
    database_url: str, start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    old = await build_previous_release(database_url, xendit)
    app = await start_bot(allowed_user_ids=str(BUDI))
    people = await _rows(app, sa.select(members).order_by(members.c.user_id))
    assert [(m["user_id"], m["role"], m["removed_at"] is None) for m in people] == [
        (BUDI, "owner", True),
        (SARI, "owner", False),  # their row stays: their links keep a name
    ]
    mark = tg.mark()
    for text in ("/links", "/status EXPD2222", "/pay 5000"):
        reply = await say(tg, text, chat_id=SARI)
        assert "team only" in (reply.text or "") or "tim sebuah toko" in (reply.text or ""), text
        assert "EXPD2222" not in (reply.text or "")
    assert [s.chat_id for s in tg.outbox[mark:] if s.chat_id != GROUP] == [SARI] * 3
    assert len(xendit.created()) == 1  # the session made for the old data alone
    # Budi, still listed, sees the shop's links, Sari's among them.
    listed = await say(tg, "/links", user_id=BUDI)
    assert "EXPD2222" in (listed.text or "")
    await handled()
    link = await repo_of(app).get_link_by_ref("EXPD2222")
    assert link is not None
    assert link.user_id == SARI
    assert old.ids["EXPD2222"] == link.id


async def test_downgrade_to_the_previous_release_and_back_keeps_the_links(
    database_url: str, xendit: FakeXendit
) -> None:
    old = await build_previous_release(database_url, xendit)
    db = await Database.connect(database_url)  # upgrades to head
    try:

        def down(conn: Connection) -> None:
            command.downgrade(alembic_config(conn), PREVIOUS)

        await db.change_schema(down)
        columns = await db.read(
            lambda conn: {c["name"] for c in sa.inspect(conn).get_columns("links")}
        )
        assert "shop_id" not in columns
        assert not await db.read(lambda conn: sa.inspect(conn).has_table("shops"))
        await db.migrate()
        rows = await db.read(
            lambda conn: conn.execute(
                sa.select(new_links.c.short_ref, new_links.c.shop_id, new_links.c.member_name)
            ).all()
        )
        assert sorted(r.short_ref for r in rows) == sorted(old.links)
        assert {r.shop_id for r in rows} == {1}
        assert {r.short_ref: r.member_name for r in rows} == {
            ref: row["merchant_name"] for ref, row in old.links.items()
        }
        owners = await db.read(
            lambda conn: conn.execute(sa.select(members.c.user_id, members.c.role)).all()
        )
        assert sorted(owners) == [(BUDI, "owner"), (SARI, "owner")]
        notes = await db.read(lambda conn: conn.execute(sa.select(outbox.c.kind)).all())
        assert sorted(n.kind for n in notes) == ["CARD", "PAID"]
    finally:
        await db.close()


async def test_an_upgrade_failing_half_way_leaves_the_previous_schema_to_try_again(
    database_url: str, xendit: FakeXendit
) -> None:
    old = await build_previous_release(database_url, xendit)
    db = await Database.connect(database_url, migrate=False)
    try:

        def fails_after_0007(conn: Connection) -> None:
            command.upgrade(alembic_config(conn), "0007")
            raise RuntimeError("the disk filled up")

        try:
            await db.change_schema(fails_after_0007)
        except RuntimeError:
            pass
        else:
            raise AssertionError("the failure was swallowed")
        tables = set(await db.read(lambda conn: sa.inspect(conn).get_table_names()))
        assert not tables & {"shops", "members", "invites", "_alembic_tmp_links"}
        await db.migrate()  # the next start upgrades it
        refs = await db.read(lambda conn: conn.scalars(sa.select(new_links.c.short_ref)).all())
        assert sorted(refs) == sorted(old.links)
        if db.dialect == "sqlite":  # enforced again
            assert await db.read(lambda conn: conn.exec_driver_sql("PRAGMA foreign_keys").scalar())
    finally:
        await db.close()
