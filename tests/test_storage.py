"""The repository on both backends: what it hands back is what it stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage import Database, LinkStatus, NewLink, Repository


@pytest.mark.parametrize("draft", [False, True])
async def test_a_new_link_is_handed_back_exactly_as_stored(database_url: str, draft: bool) -> None:
    """create_link builds the Link it returns from what it wrote (only the id is read back);
    reading the row again must give the very same Link."""
    jakarta = timezone(timedelta(hours=7))  # a clock in another zone: stored and shown as UTC
    now = datetime(2026, 11, 24, 21, 5, 6, 789012, tzinfo=jakarta)
    db = await Database.connect(database_url)
    try:
        repo = Repository(db, clock=lambda: now)
        made = await repo.create_link(
            NewLink(
                "KOPI1234",
                "pb-KOPI1234-ab",
                1001,
                2002,
                "id",
                150000,
                "IDR",
                "kopi susu",
                draft=draft,
                return_token="tok-123",
                merchant_name="Warung Bu Sri",
            )
        )
        stored = await repo.get_link(made.id)
    finally:
        await db.close()
    assert stored == made
    assert made.status is (LinkStatus.DRAFT if draft else LinkStatus.PENDING)
    assert made.created_at == now
    assert made.created_at.tzinfo == UTC
    assert (made.chat_id, made.user_id, made.amount_minor) == (1001, 2002, 150000)
