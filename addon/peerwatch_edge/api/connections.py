"""HTTP connections that must send each request's headers in time (aiohttp 3.11 has no such limit).

aiohttp waits forever for the rest of a request's headers, so a client that opens connections and
sends half a request on each holds them all. `GuardedRequestHandler` closes a connection whose
request headers are not complete `header_timeout` seconds after it opened, or after the first
bytes of its next request arrived; an idle keep-alive connection stays governed by aiohttp's
`keepalive_timeout`. One address may have at most `MAX_WAITING_PER_ADDRESS` connections waiting
for headers at a time; malformed HTTP gets the API's JSON error instead of aiohttp's text page.
(Bodies have their own timeout where handlers read them: `params.read_body`.)
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any, Final

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from .errors import code_of, json_error

_LOGGER = logging.getLogger(__name__)

MAX_WAITING_PER_ADDRESS: Final = 32
KEEPALIVE_TIMEOUT: Final = 75.0


class GuardedRequestHandler(RequestHandler):
    """aiohttp's connection handler with a header read timeout and JSON errors for bad HTTP.

    Reads two fields of aiohttp's handler (pinned to 3.11): `_request_count`, which grows when
    a request's headers are complete, and `_waiter`, set while it waits for the next request.
    """

    def __init__(
        self,
        manager: web.Server,
        *,
        header_timeout: float,
        waiting: Counter[str],
        **kwargs: Any,  # noqa: ANN401
    ) -> None:
        super().__init__(manager, keepalive_timeout=KEEPALIVE_TIMEOUT, access_log=None, **kwargs)
        self._header_timeout = header_timeout
        self._waiting = waiting
        self._address = ""
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the header clock, or close at once when this address has too many waiting."""
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        self._address = str(peer[0]) if peer else ""
        if self._waiting[self._address] >= MAX_WAITING_PER_ADDRESS:
            _LOGGER.debug("closing a connection from %s: too many waiting", self._address)
            self.force_close()
            return
        self._start_clock()

    def data_received(self, data: bytes) -> None:
        """Stop the clock when headers are complete; start it when a new request begins."""
        parsed = self._request_count
        super().data_received(data)
        if self._request_count != parsed:
            self._stop_clock()
        elif self._deadline is None and self._idle:
            self._start_clock()

    def connection_lost(self, exc: BaseException | None) -> None:
        """Release this connection's place in its address's count."""
        self._stop_clock()
        super().connection_lost(exc)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Malformed HTTP (or an error outside the app's middlewares): a JSON error, one log line.

        Raises ConnectionError when a response was already under way, as aiohttp does.
        """
        _LOGGER.debug("bad request from %s: %s", request.remote, exc or message)
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already under way")
        text = "malformed HTTP request" if status < 500 else "internal error, see the edge log"
        response = json_error(status, code_of(status), text)
        response.force_close()
        return response

    @property
    def _idle(self) -> bool:
        """Whether the handler waits for a request (not serving one)."""
        return self._waiter is not None and not self._waiter.done()

    def _start_clock(self) -> None:
        self._deadline = self._loop.call_later(self._header_timeout, self._expire)
        self._waiting[self._address] += 1

    def _stop_clock(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
            self._waiting[self._address] -= 1
            if not self._waiting[self._address]:
                del self._waiting[self._address]

    def _expire(self) -> None:
        self._stop_clock()
        if self._idle:
            _LOGGER.debug(
                "closing a connection from %s: no complete request headers in %.0f s",
                self._address,
                self._header_timeout,
            )
            self.force_close()


class GuardedSite(web.BaseSite):
    """A TCP site of `runner` whose connections are `GuardedRequestHandler`s."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, header_timeout: float) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._header_timeout = header_timeout

    @property
    def name(self) -> str:
        """The site's URL."""
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        """Listen on host:port."""
        await super().start()
        server = self._runner.server
        assert server is not None, "the runner is not set up"
        loop = asyncio.get_running_loop()
        waiting: Counter[str] = Counter()

        def handler() -> GuardedRequestHandler:
            return GuardedRequestHandler(
                server, loop=loop, header_timeout=self._header_timeout, waiting=waiting
            )

        self._server = await loop.create_server(handler, self._host, self._port)
