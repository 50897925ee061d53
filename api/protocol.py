"""Connection hygiene below the ASGI app: header-read and body-progress timeouts, header
limits. A hostile client cannot hold a connection, a request slot or memory for free.

uvicorn's httptools protocol (checked: uvicorn 0.54.0, httptools 0.9.0) closes an idle
keep-alive connection after a response, and nothing else: a connection that never sends
its header section, or stops sending its body, stays open for ever, and it buffers a
header section of any size or count. This subclass adds what it lacks; the uvicorn
names it relies on (``connection_made``, ``data_received``, ``on_message_begin``,
``on_header``, ``on_headers_complete``, ``on_body``, ``on_message_complete``,
``connection_lost``, ``self.cycle``, ``self.flow``, ``self.transport``) are touched here
only, and ``tests/api/test_connections.py`` drives each of them through a real server.

- Header section: complete within ``header_timeout_s`` of the connection opening or of
  the first byte of a request, else 408 (RFC 9110 §15.5.9) and close; more than
  ``max_header_count`` field lines or ``max_header_bytes`` of them → 431 (RFC 6585 §5;
  RFC 9110 §5.4: a server MUST answer a field section larger than it wishes to process
  with a 4xx).
- Body: at least ``body_min_bytes`` in every ``body_interval_s`` while the request
  body is incomplete, else the request ends as a disconnect (the app discards what it
  had), 408 if no response was started, and close (a server MAY send an
  error response to an incomplete request before closing; RFC 9112 §8). An interval in which our own
  app stopped reading (flow control) does not count against the client.
- A response that ends the connection (``Connection: close``) while its request's body
  is still arriving, an early refusal, closes it in the same stages as our own
  answers: uvicorn would close at once, and the unread body would reset the connection
  before the client read the answer. The cycle's ``transport`` (uvicorn's
  ``RequestResponseCycle.transport``, used only for ``write``, ``close`` and
  ``is_closing``) is wrapped for that.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState


@dataclass(frozen=True)
class ConnectionLimits:
    """What a client must do to keep its connection; defaults are the settings'."""

    header_timeout_s: float = 10.0
    body_interval_s: float = 10.0
    body_min_bytes: int = 4096
    max_header_count: int = 100
    max_header_bytes: int = 32 * 1024


class _WatchedFlow(FlowControl):
    """uvicorn's flow control, remembering whether reading paused since the last look."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__(transport)
        self.paused_since_look = False

    def pause_reading(self) -> None:
        self.paused_since_look = True
        super().pause_reading()

    def look(self) -> bool:
        """True when our side held the body back at some point since the last look."""
        paused, self.paused_since_look = self.paused_since_look or self.read_paused, False
        return paused


class _ClosingGently(asyncio.Transport):
    """The transport as one request's cycle sees it: closing it while the request's body
    is unfinished lingers (``GuardedHttpProtocol._close_with``) instead of resetting."""

    def __init__(self, protocol: "GuardedHttpProtocol", transport: asyncio.Transport) -> None:
        super().__init__()
        self._protocol = protocol
        self._transport = transport

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._transport.write(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def close(self) -> None:
        if self._protocol.in_head or self._protocol.lingering:
            self._transport.close()  # the body has arrived (or is being discarded)
        else:
            self._protocol._close_with(b"")


class _HeaderTooLarge(Exception):
    """Raised from a parser callback to stop parsing; answered with 431."""


def _answer(status: int, reason: bytes) -> bytes:
    """A whole response whose body is its reason phrase; the connection closes after it."""
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (status, reason, len(reason), reason)
    )


# Long enough for the client's acknowledgement of our last answer on any usable path
# (RFC 9112 §9.6 asks for "reasonably certain"), short enough to bound a discarding drain.
LINGER_S = 2.0
TIMEOUT_408 = _answer(408, b"Request Timeout")
TOO_LARGE_431 = _answer(431, b"Request Header Fields Too Large")


class GuardedHttpProtocol(HttpToolsProtocol):
    """httptools' HTTP/1.1 protocol with the timeouts and header limits above; the
    limits come from ``config.connection_limits`` (see ``api.server.ApiConfig``)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits: ConnectionLimits = getattr(config, "connection_limits", ConnectionLimits())
        self.in_head = True  # between a request's first byte (or the connection) and its body
        self.head_started = False
        self.head_raw = 0  # bytes fed while in the header section: bounds what httptools buffers
        self.head_size = 0
        self.head_count = 0
        self.head_timer: asyncio.TimerHandle | None = None
        self.body_timer: asyncio.TimerHandle | None = None
        self.body_progress = 0
        self.lingering = False
        self.linger_timer: asyncio.TimerHandle | None = None

    # -- connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow = _WatchedFlow(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            return  # answered and half-closed: what still arrives is discarded
        self._unset_keepalive_if_required()
        if self.in_head:
            self.head_raw += len(data)
            if self.head_timer is None:  # bytes after an idle keep-alive: a new head
                self._arm_head_timer()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _HeaderTooLarge):
                self._close_with(TOO_LARGE_431)
                return
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        if self.in_head and self.head_raw > 2 * self.limits.max_header_bytes:
            self._close_with(TOO_LARGE_431)  # one field line still growing in httptools

    # -- parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_started = True
        self.head_size = self.head_count = 0

    def on_url(self, url: bytes) -> None:
        self.head_size += len(url)
        self._check_head()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_count += 1
        self.head_size += len(name) + len(value) + 4  # "name: value\r\n", RFC 9112 §5
        self._check_head()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.in_head = False
        self._cancel(self.head_timer)
        self.head_timer = None
        self.body_progress = 0
        self.body_timer = self.loop.call_later(self.limits.body_interval_s, self._body_tick)
        super().on_headers_complete()
        if self.cycle is not None:
            self.cycle.transport = _ClosingGently(self, self.transport)

    def on_body(self, body: bytes) -> None:
        self.body_progress += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel(self.body_timer)
        self.body_timer = None
        self.in_head, self.head_started, self.head_raw = True, False, 0
        super().on_message_complete()
        if self.cycle.response_complete and self.timeout_keep_alive_task is None:
            # Answered before its body ended (an early refusal): the body's end starts
            # the idle time of the connection, RFC 9112 §9.5.
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    # -- limits

    def _check_head(self) -> None:
        limits = self.limits
        if self.head_count > limits.max_header_count or self.head_size > limits.max_header_bytes:
            raise _HeaderTooLarge()

    def _arm_head_timer(self) -> None:
        self.head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timeout)

    def _head_timeout(self) -> None:
        self.head_timer = None
        if not self.in_head or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_head_timer()  # the app is still answering the previous request
            return
        self._close_with(TIMEOUT_408 if self.head_started else b"")

    def _body_tick(self) -> None:
        self.body_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        held_back = self.flow.look() if isinstance(self.flow, _WatchedFlow) else False
        # A client that sent Expect: 100-continue waits for us (RFC 9110 §10.1.1).
        held_back = held_back or (cycle is not None and cycle.waiting_for_100_continue)
        if held_back or self.body_progress >= self.limits.body_min_bytes:
            self.body_progress = 0
            self.body_timer = self.loop.call_later(self.limits.body_interval_s, self._body_tick)
            return
        started = cycle is not None and cycle.response_started
        if cycle is not None:
            cycle.disconnected = True  # the app's receive() now answers http.disconnect
            cycle.message_event.set()
        self._close_with(b"" if started else TIMEOUT_408)

    def _close_with(self, answer: bytes) -> None:
        """Send ``answer`` (if any) and close in stages, RFC 9112 §9.6: closing at once
        with the client's bytes unread would reset the connection and lose the answer,
        so half-close, discard what still arrives, and close after ``LINGER_S``."""
        self._cancel_timers()
        if self.transport.is_closing():
            return
        if not answer and self.in_head:
            self.transport.close()  # nothing unread to reset on
            return
        self.transport.write(answer)
        self.lingering = True
        self.flow.resume_reading()
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.linger_timer = self.loop.call_later(LINGER_S, self.transport.close)

    def _cancel_timers(self) -> None:
        for timer in (self.head_timer, self.body_timer, self.linger_timer):
            self._cancel(timer)
        self.head_timer = self.body_timer = self.linger_timer = None

    @staticmethod
    def _cancel(timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()
