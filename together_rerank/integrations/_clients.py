"""The SDK clients behind a framework adapter: the caller's, else ones made on first use."""

from __future__ import annotations

import weakref

from pydantic import SecretStr

from together_rerank._base_client import ClientSettings
from together_rerank._client import AsyncTogether, Together

__all__ = ["AdapterClients"]


class AdapterClients:
    """Picks the client for a call: the one the caller passed, else one made here and kept.

    A client made here takes the settings of the one the caller passed for the
    other mode (so its retries and plugins apply to both), else `api_key` and
    `base_url` (else the environment, as `Together()` reads it).
    """

    def __init__(self) -> None:
        self._sync: Together | None = None
        # One for every event loop: AsyncTogether keeps a connection pool per loop and closes
        # it when that loop shuts down. Closing it here as well (it once was, from an async
        # generator of ours) races the loop's own shutdown of the pool: both `aclose()` the
        # same generator and asyncio prints "aclose(): asynchronous generator is already
        # running" at the end of every `asyncio.run`.
        self._async: AsyncTogether | None = None

    def sync(
        self,
        client: Together | None,
        async_client: AsyncTogether | None,
        api_key: SecretStr | None,
        base_url: str | None,
    ) -> Together:
        """The client for a sync call."""
        if client is not None:
            return client
        if self._sync is None:
            if async_client is not None:
                self._sync = Together(**_settings(async_client))
            else:
                self._sync = Together(api_key=_reveal(api_key), base_url=base_url)
            # Its connections close when the adapter goes, not when the garbage collector
            # gets to the sockets (a ResourceWarning each).
            weakref.finalize(self, self._sync.close)
        return self._sync

    async def async_(
        self,
        client: Together | None,
        async_client: AsyncTogether | None,
        api_key: SecretStr | None,
        base_url: str | None,
    ) -> AsyncTogether:
        """The client for an async call, on any event loop."""
        if async_client is not None:
            return async_client
        if self._async is None:
            if client is not None:
                self._async = AsyncTogether(**_settings(client))
            else:
                self._async = AsyncTogether(api_key=_reveal(api_key), base_url=base_url)
        return self._async


def _reveal(api_key: SecretStr | None) -> str | None:
    return None if api_key is None else api_key.get_secret_value()


def _settings(client: Together | AsyncTogether) -> ClientSettings:
    # The rule `with_options` uses, so that a setting added to the clients carries over too.
    return client._settings_with(
        api_key=None,
        base_url=None,
        timeout=None,
        max_retries=None,
        default_headers=None,
        plugins=None,
    )
