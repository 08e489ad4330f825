"""``python -m storage upgrade``: apply migrations to ``DATABASE_URL`` without starting the bot."""

from __future__ import annotations

import asyncio
import os
import sys

from storage.database import Database


async def _upgrade(url: str) -> None:
    db = await Database.connect(url, migrate=True)
    await db.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["upgrade"]:
        print("usage: python -m storage upgrade", file=sys.stderr)
        return 2
    asyncio.run(_upgrade(os.environ.get("DATABASE_URL", "sqlite:///paybot.db")))
    print("database is at the newest schema")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
