"""uvicorn's h11 protocol with the two deadlines it lacks: request headers, and shutdown.

uvicorn times out a connection only once it has answered a request (keep-alive,
`ServerConfig.keep_alive_timeout`). A client that connects and never finishes
its request line and headers would hold its socket forever; so would a request
whose body stops halfway when the server shuts down. `TimedH11Protocol`:

* closes a connection whose request headers are not complete within
  ``header_timeout`` seconds of the connection opening, or of the first byte
  after an answered request (nothing is sent: the app was never reached);
* at shutdown, ends requests still waiting for their body as if the client had
  gone, so ``serve`` exits at once instead of waiting for slow clients.

The body itself has its own deadline in the app (`ServerConfig.body_timeout`,
answered with a JSON 408).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_HEADER_TIMEOUT = 10.0


class TimedH11Protocol(H11Protocol):
    """`H11Protocol` that closes connections whose request headers arrive too slowly."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def _awaiting_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(
                self.header_timeout, self._on_header_deadline
            )

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _on_header_deadline(self) -> None:
        self._header_deadline = None
        if self._awaiting_headers() and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers():
            self._arm_header_deadline()
        super().data_received(data)
        if not self._awaiting_headers():
            self._disarm_header_deadline()

    def shutdown(self) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_started and cycle.more_body:
            # Still reading a body: the client will not finish in time to be answered.
            cycle.disconnected = True
            cycle.message_event.set()
            self.transport.close()
            return
        super().shutdown()


def timed_protocol(header_timeout: float) -> type[TimedH11Protocol]:
    """A `TimedH11Protocol` class with `header_timeout`, for ``uvicorn.Config(http=...)``."""
    return type("TimedH11Protocol", (TimedH11Protocol,), {"header_timeout": header_timeout})
