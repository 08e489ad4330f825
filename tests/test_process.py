"""The real process: ``python -m bot`` started, killed and terminated the way an operator does.

Each test runs the bot as a child process configured only through its environment (as on a
server), while the fake Telegram and the fake Xendit run in the test's own event loop. What is
checked is what no in-process test can see: a ``SIGKILL`` right after a webhook's ``200`` loses
nothing, a ``SIGTERM`` in the middle of a burst of webhooks exits cleanly and a restart finishes
the job without telling anyone twice, and a wrong token stops the process without leaking it.
Two tests pin down that claimed work does not wait out its lease after a stop or a crash.

The child imports ``bot`` from this checkout (``PYTHONPATH``), uses its own SQLite file in the
test's tmp dir, and writes its output to ``bot<N>.log`` there (printed when a test fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from sqlalchemy import Connection, select

from bot.config import Settings
from storage import Database, NotificationStatus
from storage.tables import outbox, session_checks
from tests.conftest import BOT_TOKEN, CALLBACK_TOKEN, MERCHANT, XENDIT_KEY
from tests.fakes import FakeTelegram, FakeXendit, Sent, WebhookResult
from tests.helpers import Store

#: The repository root: the child process imports ``bot`` and ``storage`` from here.
REPO_ROOT = Path(__file__).resolve().parents[1]

READY_TIMEOUT = 20.0  # start-up: interpreter, imports, migrations, getMe, first poll
STOP_TIMEOUT = 10.0  # SIGTERM -> exit, as an orchestrator's grace period would allow
POLL_INTERVAL = 0.05
AFTER_LEASE = 15.0  # claims are handed back on stop and released on restart

_REF = re.compile(r"Ref: <code>([A-Z0-9]+)</code>")
#: One line of a summary of several payments ("✅ 3 payments received: …").
_SUMMARY_LINE = re.compile(r"^• .*<code>([A-Z0-9]+)</code>$", re.MULTILINE)


# -- the child process -------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on right now (bound to 0, read back, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_environment() -> dict[str, str]:
    """``os.environ`` without anything the bot would read as its own configuration."""
    own = {name.upper() for name in Settings.model_fields}
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "XENDIT_")) and key not in own
    }


class BotProcess:
    """``python -m bot`` as a child process, with its output in a log file."""

    def __init__(self, workdir: Path, env: Mapping[str, str], *, name: str) -> None:
        self.workdir = workdir
        self.env = dict(env)
        self.name = name
        self.port = int(self.env["PORT"])
        self.log_path = workdir / f"{name}.log"
        self.signalled_at: float | None = None
        self.exited_at: float | None = None
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    @property
    def _process(self) -> asyncio.subprocess.Process:
        assert self._proc is not None, f"{self.name} was not started"
        return self._proc

    async def start(self) -> None:
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def wait_ready(self, within: float = READY_TIMEOUT) -> None:
        """Poll ``GET /healthz`` until it answers 200; fail at once if the process dies."""
        last = "no answer yet"
        try:
            async with asyncio.timeout(within), aiohttp.ClientSession() as http:
                while True:
                    if self.returncode is not None:
                        raise AssertionError(
                            f"{self.name} exited with {self.returncode} before it was ready\n"
                            f"{self.log()}"
                        )
                    try:
                        async with http.get(
                            f"{self.url}/healthz", timeout=aiohttp.ClientTimeout(total=2)
                        ) as response:
                            if response.status == 200:
                                return
                            last = f"{response.status} {await response.text()}"
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        last = f"{type(exc).__name__}: {exc}"
                    await asyncio.sleep(POLL_INTERVAL)
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: /healthz not 200 within {within}s ({last})\n{self.log()}"
            ) from None

    def send_signal(self, sig: signal.Signals) -> None:
        self.signalled_at = time.monotonic()
        self._process.send_signal(sig)

    def terminate(self) -> None:
        """SIGTERM: what ``docker stop``, systemd and Heroku send first."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: the power cord. Nothing in the process gets to run."""
        self.send_signal(signal.SIGKILL)

    async def wait(self, within: float = STOP_TIMEOUT) -> int:
        """The exit code (negative: killed by that signal)."""
        try:
            async with asyncio.timeout(within):
                code = await self._process.wait()
        except TimeoutError:
            raise AssertionError(
                f"{self.name} (pid {self.pid}) still running {within}s later\n{self.log()}"
            ) from None
        if self.exited_at is None:
            self.exited_at = time.monotonic()
        return code

    @property
    def stop_seconds(self) -> float:
        """From the signal to the observed exit."""
        assert self.signalled_at is not None
        assert self.exited_at is not None
        return self.exited_at - self.signalled_at

    def log(self) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            text = ""
        return f"----- {self.name} log ({self.log_path}) -----\n{text}----- end of {self.name} log"

    async def close(self) -> None:
        """Make sure nothing outlives the test (SIGKILL if still running)."""
        if self._proc is None or self._proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self._proc.kill()
        await self._proc.wait()


class Operator:
    """Starts bot processes against the fakes, all on one database in the test's tmp dir."""

    def __init__(self, workdir: Path, tg: FakeTelegram, xendit: FakeXendit) -> None:
        self.workdir = workdir
        self.tg = tg
        self.xendit = xendit
        self.database_url = f"sqlite:///{workdir / 'paybot.db'}"
        self.processes: list[BotProcess] = []

    def environment(self, **overrides: str) -> dict[str, str]:
        env = clean_environment()
        env.update(
            TELEGRAM_BOT_TOKEN=self.tg.token,
            XENDIT_SECRET_KEY=self.xendit.secret_key,
            XENDIT_CALLBACK_TOKEN=self.xendit.callback_token,
            TELEGRAM_API_URL=self.tg.url,
            XENDIT_API_URL=self.xendit.url,
            DATABASE_URL=self.database_url,
            HOST="127.0.0.1",
            PORT=str(free_port()),
            ALLOWED_USER_IDS=str(MERCHANT),
            PTB_TIMEDELTA="true",
            PYTHONPATH=os.pathsep.join(
                p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
            ),
        )
        env.update(overrides)
        return env

    async def launch(self, **overrides: str) -> BotProcess:
        """Start a process (not waiting for it to be ready)."""
        process = BotProcess(
            self.workdir, self.environment(**overrides), name=f"bot{len(self.processes) + 1}"
        )
        self.processes.append(process)
        await process.start()
        return process

    async def start(self, **overrides: str) -> BotProcess:
        """Start a process, wait until it is ready and point Xendit's webhooks at it."""
        process = await self.launch(**overrides)
        await process.wait_ready()
        self.xendit.webhook_url = f"{process.url}/webhooks/xendit"
        return process

    async def outbox_settled(self, expected: int, within: float = AFTER_LEASE) -> list[Any]:
        """Read the database from outside: wait until there are at least ``expected``
        notifications and every one is SENT."""
        db = await Database.connect(self.database_url, migrate=False)
        rows: list[Any] = []
        try:
            async with asyncio.timeout(within):
                while True:
                    rows = list(await Store(db).notifications())
                    if len(rows) >= expected and all(
                        r.status == NotificationStatus.SENT.value for r in rows
                    ):
                        return rows
                    await asyncio.sleep(POLL_INTERVAL)
        except TimeoutError:
            summary = [(r.id, r.kind, r.chat_id, r.status, r.last_error) for r in rows]
            raise AssertionError(
                f"outbox not settled within {within}s: expected {expected} SENT, have "
                f"{summary}\n{self.logs()}"
            ) from None
        finally:
            await db.close()

    async def claims(self) -> list[tuple[str, int]]:
        """Checks and pending notifications the database still shows as claimed."""
        db = await Database.connect(self.database_url, migrate=False)
        try:

            def read(conn: Connection) -> list[tuple[str, int]]:
                checks = conn.scalars(
                    select(session_checks.c.link_id).where(
                        session_checks.c.claimed_until.is_not(None)
                    )
                )
                notes = conn.scalars(
                    select(outbox.c.id).where(
                        outbox.c.claimed_until.is_not(None),
                        outbox.c.status == NotificationStatus.PENDING.value,
                    )
                )
                return [("check of link", i) for i in checks] + [("notification", i) for i in notes]

            return await db.read(read)
        finally:
            await db.close()

    def logs(self) -> str:
        return "\n".join(p.log() for p in self.processes)

    async def close(self) -> None:
        for process in self.processes:
            await process.close()


@pytest_asyncio.fixture
async def operator(tg: FakeTelegram, xendit: FakeXendit, tmp_path: Path) -> AsyncIterator[Operator]:
    op = Operator(tmp_path, tg, xendit)
    try:
        yield op
    finally:
        await op.close()
        print(op.logs())  # shown by pytest only when the test failed


# -- helpers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MadeLink:
    chat_id: int
    ref: str
    session_id: str
    card_message_id: int  # the payment card, which edits itself when the link is paid


def ref_of(message: Sent) -> str | None:
    match = _REF.search(message.text or "")
    return match.group(1) if match else None


def told_paid(message: Sent) -> list[str]:
    """The references a message tells the merchant are paid: one "PAID" message, or a summary
    of several that came for the chat at once."""
    text = message.text or ""
    if "PAID" in text:
        return [ref_of(message) or "?"]
    if "payments received" in text:
        return _SUMMARY_LINE.findall(text)
    return []


def link_replies(tg: FakeTelegram, since: int) -> list[Sent]:
    return [
        m
        for m in tg.outbox[since:]
        if m.method == "sendMessage" and "Payment link" in (m.text or "")
    ]


async def make_links(
    tg: FakeTelegram, xendit: FakeXendit, requests: Iterable[tuple[int, str]]
) -> list[MadeLink]:
    """Send every ``(chat, "/pay ...")`` at once; wait for all the payment cards."""
    mark = tg.mark()
    wanted = 0
    for chat_id, text in requests:
        tg.push_message(chat_id, text)
        wanted += 1
    replies = await tg.wait_for(
        lambda: link_replies(tg, mark) if len(link_replies(tg, mark)) >= wanted else None,
        timeout=20,
    )
    made: list[MadeLink] = []
    checkout = f"{xendit.checkout_base}/"
    for reply in replies:
        [url] = [b.url for b in tg.buttons(reply) if b.url and b.url.startswith(checkout)]
        ref = ref_of(reply)
        assert ref is not None, reply.text
        made.append(MadeLink(reply.chat_id, ref, url.removeprefix(checkout), reply.message_id))
    # Wait until the bot has confirmed these updates (its next getUpdates carries the new
    # offset): a process started later must not see the same /pay again.
    await tg.wait_for(lambda: not tg.updates, timeout=10)
    return made


def paid_refs(tg: FakeTelegram, chat_id: int | None = None) -> Counter[str]:
    """How many times each reference was told paid (in new messages; card edits aside)."""
    return Counter(ref for m in tg.messages(chat_id) for ref in told_paid(m))


def card_shows_paid(tg: FakeTelegram, link: MadeLink) -> bool:
    card = tg.chat_message(link.chat_id, link.card_message_id)
    return card is not None and "Paid:" in (card.text or "") and tg.buttons(card) == []


# -- a) SIGKILL right after the webhook's 200 ------------------------------------------------


async def test_sigkill_right_after_the_webhook_200_still_tells_the_merchant_once(
    operator: Operator, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    first = await operator.start()
    [link] = await make_links(tg, xendit, [(MERCHANT, "/pay 150000 kopi")])

    tg.outage(502)  # the paid message cannot go out
    result = await xendit.complete(link.session_id)
    assert result.status == 200, result
    first.kill()  # at once: whatever the process was doing is cut off
    assert await first.wait() == -signal.SIGKILL

    tg.restore()
    mark = tg.mark()
    started = time.monotonic()
    second = await operator.start()
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark, timeout=AFTER_LEASE)
    told_after = time.monotonic() - started
    assert ref_of(paid) == link.ref
    assert paid.text is not None
    assert "Rp150.000" in paid.text

    rows = await operator.outbox_settled(expected=2)  # the PAID message and the card edit
    assert Counter(r.kind for r in rows) == {"PAID": 1, "CARD": 1}
    assert paid_refs(tg, MERCHANT) == {link.ref: 1}
    assert card_shows_paid(tg, link)
    assert second.returncode is None
    print(f"\nrestart -> PAID message: {told_after:.2f}s")


# -- b) SIGTERM during a burst of webhooks ---------------------------------------------------


BURST_CHATS = tuple(range(1001, 1011))
LINKS_PER_CHAT = 2


def _classify(result: WebhookResult) -> str:
    if result.status == 200:
        return "200"
    if result.status == 0 and result.error is not None:
        return result.error.split(":", 1)[0]  # e.g. ClientConnectorError, ServerDisconnected…
    return f"HTTP {result.status}"


async def test_sigterm_during_a_burst_exits_cleanly_and_a_restart_tells_each_payment_once(
    operator: Operator, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    settings = {
        "ALLOWED_USER_IDS": ",".join(str(c) for c in BURST_CHATS),
        "XENDIT_RATE_LIMIT": "6000",  # one GET /sessions per webhook; not the subject here
    }
    first = await operator.start(**settings)
    links = await make_links(
        tg,
        xendit,
        [
            (chat, f"/pay {10_000 * (n + 1) + chat} barang {n}")
            for n in range(LINKS_PER_CHAT)
            for chat in BURST_CHATS
        ],
    )
    assert len(links) == len(BURST_CHATS) * LINKS_PER_CHAT

    # Every payment at once; SIGTERM as soon as the first few are acknowledged.
    completions = [asyncio.create_task(xendit.complete(link.session_id)) for link in links]
    await xendit.wait_for(lambda: sum(r.status == 200 for r in xendit.webhook_log) >= 3)
    first.terminate()
    await asyncio.gather(*completions)
    code = await first.wait(within=STOP_TIMEOUT)
    assert code == 0, first.log()
    assert first.stop_seconds < STOP_TIMEOUT
    assert "paybot stopped" in first.log()

    attempts = list(xendit.webhook_log)
    outcomes = Counter(_classify(r) for r in attempts)
    print(f"\nSIGTERM after 3 acks; {len(attempts)} webhooks: {dict(outcomes)}")
    print(f"exit 0 {first.stop_seconds:.2f}s after SIGTERM")
    # No webhook got an error answer: each was either taken (200) or never reached a handler
    # (refused, or the idle keep-alive connection was closed under it). Either way Xendit
    # retries the latter and the former is already safe in the database.
    assert all(r.status in (200, 0) for r in attempts), outcomes
    assert all(r.error for r in attempts if r.status == 0)

    # A new process on the same database; Xendit re-delivers what was not acknowledged.
    second = await operator.start(**settings)
    retried = [await xendit.send_webhook(r.payload) for r in attempts if r.status != 200]
    assert [r.status for r in retried] == [200] * len(retried), retried
    mark_after = time.monotonic()

    await tg.wait_for(
        lambda: {link.ref for link in links} <= set(paid_refs(tg)) or None,
        timeout=AFTER_LEASE,
    )
    rows = await operator.outbox_settled(expected=2 * len(links))  # PAID + card edit each
    print(
        f"after restart: all PAID within {time.monotonic() - mark_after:.2f}s; "
        f"{len(retried)} webhook(s) re-sent"
    )

    assert Counter(r.kind for r in rows) == {"PAID": len(links), "CARD": len(links)}
    assert paid_refs(tg) == {link.ref: 1 for link in links}
    assert [link.ref for link in links if not card_shows_paid(tg, link)] == []
    for chat in BURST_CHATS:
        mine = {link.ref for link in links if link.chat_id == chat}
        assert set(paid_refs(tg, chat)) == mine  # told in the chat that made the link
        cards = [m for m in tg.messages(chat) if "Payment link" in (m.text or "")]
        assert len(cards) == LINKS_PER_CHAT
        others = [m.text for m in tg.messages(chat) if m not in cards and not told_paid(m)]
        assert others == []  # the cards and the payments, nothing else
    assert len(xendit.requests_to("POST", "/sessions")) == len(links)
    assert xendit.duplicate_references == []
    assert second.returncode is None


# -- claims a stopped or dead process leaves behind ----------------------------------------
#
# Deterministic versions of windows that (a) and (b) hit or miss depending on timing: work a
# stopped process had claimed is handed back on SIGTERM, and a restart after SIGKILL releases
# the dead process's claims (polling mode: one instance) instead of waiting out the lease.


async def test_sigterm_hands_back_the_checks_it_had_claimed(
    operator: Operator, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    first = await operator.start()
    links = await make_links(tg, xendit, [(MERCHANT, f"/pay {n}0000") for n in range(1, 6)])
    xendit.delay = 0.5  # Xendit answers GET /sessions slowly: the checks queue up
    results = await asyncio.gather(*(xendit.complete(link.session_id) for link in links))
    assert [r.status for r in results] == [200] * len(links)
    # The second confirmation is in flight: the batch it belongs to holds the other three.
    await xendit.wait_for(lambda: len(xendit.requests_to("GET", "/sessions/")) >= 2)
    first.terminate()
    assert await first.wait() == 0, first.log()
    assert await operator.claims() == []


async def test_after_sigkill_a_restart_does_not_wait_out_the_dead_process_lease(
    operator: Operator, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    first = await operator.start()
    [link] = await make_links(tg, xendit, [(MERCHANT, "/pay 150000 kopi")])
    xendit.delay = 30.0  # the confirmation is still in flight when the process dies
    assert (await xendit.complete(link.session_id)).status == 200
    confirm = f"/sessions/{link.session_id}"
    await xendit.wait_for(lambda: any(r.path == confirm for r in xendit.requests_to("GET")))
    first.kill()
    assert await first.wait() == -signal.SIGKILL
    xendit.delay = 0.0

    mark = tg.mark()
    await operator.start()
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark, timeout=10)
    assert ref_of(paid) == link.ref


async def test_sigkill_after_the_session_is_made_but_before_the_card_still_shows_it(
    operator: Operator, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    """Xendit made the session; the card is on its way to Telegram (which hangs) when the
    process dies. The session and the queued card were stored first: a restart sends it."""
    first = await operator.start()
    tg.delay = 30.0  # sendMessage hangs: the card never leaves this process
    mark = tg.mark()
    tg.push_message(MERCHANT, "/pay 150000 kopi susu")
    await tg.wait_for(
        lambda: (
            any(
                c.method == "sendMessage" and "Payment link" in c.params.get("text", "")
                for c in tg.calls
            )
            or None
        ),
        timeout=10,
    )
    await tg.wait_for(lambda: not tg.updates, timeout=10)  # /pay confirmed: not redelivered
    first.kill()
    assert await first.wait() == -signal.SIGKILL
    tg.delay = 0.0
    [session] = xendit.sessions.values()
    assert tg.outbox[mark:] == []  # the merchant has seen nothing

    await operator.start()
    card = await tg.wait_message(MERCHANT, contains="Payment link", since=mark, timeout=10)
    assert session["payment_link_url"] in (card.text or "")
    rows = await operator.outbox_settled(expected=1)
    assert [(r.kind, r.status) for r in rows] == [("CARD", "SENT")]
    db = await Database.connect(operator.database_url, migrate=False)
    try:
        [link] = await Store(db).links_for_chat(MERCHANT)
    finally:
        await db.close()
    assert link.session_id == session["payment_session_id"]
    assert link.card_message_id == card.message_id  # edits go to the card the merchant has
    assert ref_of(card) == link.short_ref
    assert len(xendit.requests_to("POST", "/sessions")) == 1


# -- c) SIGTERM when idle -------------------------------------------------------------------


async def test_sigterm_when_idle_exits_0_quickly(operator: Operator) -> None:
    process = await operator.start()
    process.terminate()
    assert await process.wait(within=STOP_TIMEOUT) == 0
    assert process.stop_seconds < STOP_TIMEOUT
    log = process.log()
    assert "paybot stopped" in log, log
    assert "Traceback" not in log, log
    print(f"\nidle SIGTERM -> exit 0 in {process.stop_seconds:.2f}s")


# -- d) a wrong bot token ---------------------------------------------------------------------


async def test_a_wrong_bot_token_exits_non_zero_without_printing_the_token(
    operator: Operator, tg: FakeTelegram
) -> None:
    wrong = "123456:WRONG-token-that-must-not-be-printed"
    process = await operator.launch(TELEGRAM_BOT_TOKEN=wrong)
    code = await process.wait(within=READY_TIMEOUT)
    log = process.log()
    assert code not in (0, None), log
    assert code == 1, log
    [line] = [line for line in log.splitlines() if "paybot could not run" in line]
    assert "CRITICAL" in line
    assert "rejected" in line  # Telegram refused the token: says what is wrong
    for secret in (wrong, wrong.split(":", 1)[1], BOT_TOKEN, XENDIT_KEY, CALLBACK_TOKEN):
        assert secret not in log, f"{secret!r} printed:\n{log}"
    assert "Traceback" not in log, log
    # It stopped at getMe: nothing else was asked of Telegram.
    assert {c.method for c in tg.calls} == {"getMe"}
