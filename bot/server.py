"""The HTTP server's defences against idle, slow and too many clients.

1,100 idle TCP connections once used up the process's file descriptors (a common limit is
1,024): ``/healthz`` failed, ``/pay`` could not reach Xendit, and every refused ``accept``
logged a traceback. So:

- the soft open-file limit is raised to the hard one at start-up (:func:`raise_open_file_limit`);
- :class:`ConnectionGuard` caps the connections it serves and drops those that do not
  deliver a request's headers, or its body, within ``read_timeout`` seconds;
- resource errors (EMFILE, ...) the event loop reports are logged once per interval
  (:class:`OncePerInterval`, :func:`log_resource_errors`), not once per connection.

aiohttp has no limit on connections and no deadline for a request's headers or body (its
``keepalive_timeout`` is for the silence between requests, and a byte now and then resets
nothing it measures), so the guard sits in front of its protocol: it wraps the protocol
factory aiohttp documents for ``loop.create_server`` (``AppRunner.server``) and adds one
middleware. Public APIs only.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

#: errno values that mean "out of a resource" (descriptors, buffers, memory), not a bad peer.
RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def raise_open_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the soft limit now in force.

    Every connection, to clients, Telegram, Xendit and the database, is a descriptor: the
    usual soft limit of 1,024 is easily reached, the hard one rarely.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit cannot be the soft one on Linux (nr_open caps it).
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, target, exc)
    log.info("open-file limit: %s (hard limit %s)", soft, hard)
    return soft


class OncePerInterval:
    """Log a message at most once per ``interval`` seconds; those held back are counted in
    the next one logged. A storm of identical errors then costs a line a minute, not
    megabytes of tracebacks."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        level: int = logging.ERROR,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._level = level
        self._interval = interval
        self._clock = clock
        self._next: float | None = None
        self._held = 0

    def __call__(self, message: str, *args: object) -> bool:
        """Log (True), or count it for the next line (False)."""
        now = self._clock()
        if self._next is not None and now < self._next:
            self._held += 1
            return False
        if self._held:
            message += f" (and {self._held} more like it in the last {self._interval:.0f}s)"
        self._log.log(self._level, message, *args)
        self._held = 0
        self._next = now + self._interval
        return True


def log_resource_errors(
    loop: asyncio.AbstractEventLoop, report: OncePerInterval
) -> Callable[[], None]:
    """Route the loop's resource errors (a failed ``accept()`` with EMFILE, say: asyncio
    reports it through the loop's exception handler, with a traceback, each time) to
    ``report``; everything else goes where it went. Returns a function that undoes it."""
    previous = loop.get_exception_handler()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in RESOURCE_ERRNOS:
            report("%s: %s", context.get("message", "resource error"), exc)
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)
    return lambda: loop.set_exception_handler(previous)


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, behind the guard's clock and count."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self._guard = guard
        self._inner = inner
        self._started = False
        self._timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if not self._guard._admit(self):
            transport.abort()
            return
        self._started = True
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._started:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._started else None

    def pause_writing(self) -> None:
        if self._started:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._started:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_clock()
        self._guard._forget(self)
        if self._started:
            self._inner.connection_lost(exc)

    def start_clock(self, seconds: float) -> None:
        """Drop the connection unless a request's headers are in within ``seconds``."""
        self.stop_clock()
        self._timer = asyncio.get_running_loop().call_later(seconds, self.drop)

    def stop_clock(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def drop(self) -> None:
        # abort, not close: close would first wait to flush what a client that does not
        # read may never take.
        if self.transport is not None:
            self.transport.abort()


class ConnectionGuard:
    """Serve at most ``max_connections`` connections, each one's next request's headers
    due within ``read_timeout`` seconds of its opening or of the last response, and each
    request's body within ``read_timeout`` of its headers.

    At the cap, a new connection pushes out the one waiting longest for a request (idle
    keep-alive, or trickling its headers): a burst of idle connections cannot keep
    ``/healthz`` or Xendit out. Only when every connection is serving a request is a new
    one refused.
    """

    def __init__(
        self,
        *,
        max_connections: int,
        read_timeout: float,
        report: OncePerInterval | None = None,
    ) -> None:
        self._max = max(1, max_connections)
        self._timeout = read_timeout
        self._report = report or OncePerInterval(log, level=logging.WARNING)
        self._open: dict[asyncio.Transport, _Guarded] = {}
        # Connections waiting for a request, the longest-waiting first (dicts keep order).
        self._waiting: dict[_Guarded, None] = {}

    @property
    def connections(self) -> int:
        return len(self._open)

    async def listen(
        self,
        protocol_factory: Callable[[], asyncio.Protocol],
        host: str,
        port: int,
        *,
        backlog: int = 128,
    ) -> asyncio.Server:
        """Listen on ``host:port`` for ``protocol_factory`` (``AppRunner.server``, set up,
        with :meth:`middleware` among its app's); each connection goes through the guard."""
        loop = asyncio.get_running_loop()
        return await loop.create_server(
            lambda: _Guarded(self, protocol_factory()), host, port, backlog=backlog
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The headers are in: stop the connection's clock, give the body ``read_timeout``
        to arrive, and start the clock again once the request is answered."""
        guarded = self._open.get(request.transport) if request.transport else None
        if guarded is not None:
            self._waiting.pop(guarded, None)
            guarded.stop_clock()
        entered = True
        try:
            async with asyncio.timeout(self._timeout) as deadline:

                def body_in() -> None:
                    if entered:  # a body may end after a handler that did not read it
                        deadline.reschedule(None)

                request.content.on_eof(body_in)
                return await handler(request)
        except TimeoutError:
            if not deadline.expired():
                raise  # the handler's own
            self._report(
                "request body from %s not in within %.0fs: dropped", request.remote, self._timeout
            )
            response = web.Response(status=408, text="request body too slow")
            response.force_close()
            return response
        finally:
            entered = False
            if guarded is not None and request.transport is not None:
                self._wait(guarded)

    def _admit(self, guarded: _Guarded) -> bool:
        if len(self._open) >= self._max:
            if not self._waiting:
                self._report("%d connections, all busy: refusing new ones", len(self._open))
                return False
            oldest = next(iter(self._waiting))
            self._report("%d connections: dropping the longest idle ones", len(self._open))
            self._forget(oldest)
            oldest.drop()
        assert guarded.transport is not None
        self._open[guarded.transport] = guarded
        self._wait(guarded)
        return True

    def _wait(self, guarded: _Guarded) -> None:
        if guarded.transport not in self._open:
            return
        self._waiting.pop(guarded, None)
        self._waiting[guarded] = None
        guarded.start_clock(self._timeout)

    def _forget(self, guarded: _Guarded) -> None:
        guarded.stop_clock()
        self._waiting.pop(guarded, None)
        if guarded.transport is not None and self._open.get(guarded.transport) is guarded:
            del self._open[guarded.transport]


__all__ = [
    "ConnectionGuard",
    "OncePerInterval",
    "log_resource_errors",
    "raise_open_file_limit",
]
