"""The command line: ``python -m bot`` runs paybot, ``python -m bot sandbox`` the sandbox,
``python -m bot claim`` prints the link that makes its opener the shop's owner."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.app import claim_link, serve
from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bot`` and the ``paybot`` script."""
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Run paybot; its settings come from the environment."
    )
    commands = parser.add_subparsers(dest="command")
    sandbox = commands.add_parser(
        "sandbox", help="the real bot against local stand-ins of Telegram and Xendit, in a browser"
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8000)
    commands.add_parser(
        "claim", help="print the link that makes the first person to open it the shop's owner"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "sandbox":
        # Imported here only: the stand-ins have no place in the deployed bot's memory.
        from bot.sandbox.run import serve_sandbox

        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        asyncio.run(serve_sandbox(args.host, args.port))
        return 0
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"paybot: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    if args.command == "claim":
        return claim(settings)
    try:
        asyncio.run(serve(settings))
    except Exception as exc:
        log.critical("paybot could not run: %s", exc, exc_info=settings.log_level == "DEBUG")
        return 1
    return 0


def claim(settings: Settings) -> int:
    """Print a claim link (0), or say the shop has an owner already (1)."""
    try:
        shop, link = asyncio.run(claim_link(settings))
    except Exception as exc:
        log.critical("no claim link: %s", exc, exc_info=settings.log_level == "DEBUG")
        return 1
    if link is None:
        print(
            f"{shop.name} has an owner already. Owners add people with /invite in their chat "
            "with the bot (/invite owner for a co-owner).",
            file=sys.stderr,
        )
        return 1
    print(f"Open this link in Telegram to become the owner of {shop.name}:\n{link}")
    print("It works once, and only while the shop has no owner.")
    return 0
