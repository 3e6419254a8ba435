"""How ``nextshow serve`` runs uvicorn: header timeout, connection limit, trusted proxies only.

uvicorn has no timeout for a request's headers: a client that sends them one byte at a time
holds its connection (and a file descriptor) for as long as it likes, and a few hundred such
clients exhaust the server (slowloris). :class:`HeaderTimeoutProtocol` closes a connection whose
headers are not complete ``header_timeout`` seconds after it opened or after its request began.

uvicorn also trusts ``X-Forwarded-For`` from 127.0.0.1 by default, so any local client, or any
proxy that passes the header through, chooses the address the rate limit counts: proxy headers
are honoured only from the addresses in ``NEXTSHOW_TRUSTED_PROXIES`` (none by default).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from nextshow.config import Settings

log = logging.getLogger(__name__)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's headers."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            log.warning(
                "closing %s: headers not complete in %.0f s", self.client, self.header_timeout
            )
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is closed too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # keeps an earlier deadline: trickling cannot extend it

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` from the settings."""
    protocol = type(
        "NextshowHttpProtocol",
        (HeaderTimeoutProtocol,),
        {"header_timeout": settings.header_timeout_seconds},
    )
    trusted = settings.trusted_proxies
    return {
        "http": protocol,
        "limit_concurrency": settings.max_connections,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": ",".join(trusted) if trusted else "",
    }


class Server(uvicorn.Server):
    """uvicorn's server that calls ``before_shutdown`` as soon as it starts to stop."""

    def __init__(self, config: uvicorn.Config, before_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self._before_shutdown = before_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._before_shutdown()
        await super().shutdown(sockets)
