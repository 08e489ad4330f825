"""/today and /export: what came in, in the merchant's time zone, and a CSV for bookkeeping."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import Problem
from bot.money import from_minor_units, get_currency
from storage import DaySummary, Link, Links, Scope


class PeriodError(Problem, ValueError):
    """The dates given to /export are not dates, or in the wrong order."""

    key = "export_usage"


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of ``day`` in ``tz``, as aware datetimes."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def parse_period(args: Sequence[str], today: date) -> tuple[date, date]:
    """``[from] [to]`` as ISO dates; none: this month so far; one: that day to today."""
    try:
        dates = [date.fromisoformat(a) for a in args[:2]]
    except ValueError as exc:
        raise PeriodError(str(exc)) from None
    if len(args) > 2:
        raise PeriodError("at most two dates")
    if not dates:
        return today.replace(day=1), today
    start = dates[0]
    end = dates[1] if len(dates) == 2 else today
    if end < start:
        raise PeriodError("the end is before the start")
    return start, end


#: What makes a spreadsheet read a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``'`` before what would start a
    formula. A description is whatever was typed after /pay, e.g. ``=HYPERLINK(...)``."""
    return "'" + value if value.startswith(_FORMULA_START) else value


class Reports:
    """Days and periods in the shop's time zone, over the links a member may see."""

    def __init__(self, links: Links) -> None:
        self._links = links

    @staticmethod
    def today(now: datetime, tz: ZoneInfo) -> date:
        return now.astimezone(tz).date()

    async def day(self, scope: Scope, day: date, tz: ZoneInfo) -> DaySummary:
        start, end = day_bounds(day, tz)
        return await self._links.day_summary(scope, start, end)

    async def links(self, scope: Scope, start: date, end: date, tz: ZoneInfo) -> list[Link]:
        first, _ = day_bounds(start, tz)
        _, last = day_bounds(end, tz)
        return await self._links.links_created_between(scope, first, last)

    def csv(self, links: Sequence[Link], tz: ZoneInfo) -> bytes:
        """One row a link. Amounts as plain decimals (no separators) for spreadsheets."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                "reference",
                "created",
                "status",
                "amount",
                "currency",
                "description",
                "paid_at",
                "channel",
                "expires_at",
                "xendit_session_id",
                "xendit_payment_id",
            ]
        )
        for link in links:
            amount = from_minor_units(link.amount_minor, get_currency(link.currency))
            writer.writerow(
                inert_cell(cell)
                for cell in [
                    link.short_ref,
                    _local(link.created_at, tz),
                    link.status.value,
                    str(amount),
                    link.currency,
                    link.description or "",
                    _local(link.paid_at, tz),
                    link.payment_channel or "",
                    _local(link.expires_at, tz),
                    link.session_id or "",
                    link.payment_id or "",
                ]
            )
        # A BOM so that spreadsheet programs read the UTF-8 (Rp, emoji in descriptions).
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return ""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
