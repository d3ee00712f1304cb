"""`CachePlugin`: answer a repeated rerank or embeddings request from a cache instead of the API.

A 2xx answer of ``POST .../rerank`` or ``POST .../embeddings`` is stored under
the SHA-256 of the method, the URL and the body in canonical JSON (keys sorted,
no spaces), so that the same request always finds the same entry whatever the
order its arguments were given in. The model is part of the body, hence of the
key.

The API key is not part of that hash, but entries are kept apart per key: each
is filed under a fingerprint of the key (SHA-256 of a random salt and the key),
so two clients with different keys never see each other's answers, and the key
itself is never stored. The salt lives in the cache (memory, or a file in the
directory), so a re-run with the same key and directory finds its answers.

In memory the cache is an LRU of `maxsize` entries (cachetools), with entries
expiring after `ttl` seconds if given. With `directory`, entries are kept on
disk there (diskcache, SQLite-backed, safe across threads and processes), so a
re-run of an evaluation costs nothing; `maxsize` does not apply there (diskcache
bounds the directory to 1 GB), `ttl` does.

A cached answer goes back through the client exactly as a fresh one would:
status check, parsing and response validation. Send the header
``x-together-rerank-cache: bypass`` (``extra_headers={CACHE_HEADER: "bypass"}``)
to skip the cache for one request; the header is not sent on. Hits carry
``x-together-rerank-cache: hit``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

import httpx

from .._exceptions import InvalidArgumentError, InvalidArgumentTypeError
from .._plugins import Flow, RequestOptions

__all__ = ["CACHE_HEADER", "CachePlugin"]

CACHE_HEADER = "x-together-rerank-cache"
"""Request header: ``bypass`` skips the cache. Response header: ``hit`` on a cached answer."""

_CACHED_PATHS = ("/rerank", "/embeddings")
_SALT_FILE = "key-salt"


def _canonical_body(content: bytes) -> bytes:
    try:
        value = json.loads(content)
    except ValueError:
        return content
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


def request_key(request: httpx.Request) -> str:
    """The hash a request is cached under: method, URL and canonical JSON body."""
    digest = hashlib.sha256()
    for part in (
        request.method.encode(),
        str(request.url).encode(),
        _canonical_body(request.content),
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class _MemoryStore:
    def __init__(self, maxsize: int, ttl: float | None) -> None:
        from cachetools import Cache, LRUCache, TTLCache

        self._entries: Cache[str, Any] = (
            LRUCache(maxsize) if ttl is None else TTLCache(maxsize, ttl)
        )
        self._lock = threading.Lock()  # cachetools caches are not thread-safe
        self.salt = secrets.token_bytes(16)

    def get(self, key: str) -> Any:
        with self._lock:
            return self._entries.get(key)

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._entries[key] = value

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class _DiskStore:
    def __init__(self, directory: Path, ttl: float | None) -> None:
        import diskcache

        directory.mkdir(parents=True, exist_ok=True)
        self._cache = diskcache.Cache(str(directory))
        self._ttl = ttl
        self.salt = self._salt(directory)

    @staticmethod
    def _salt(directory: Path) -> bytes:
        path = directory / _SALT_FILE
        try:
            # Exclusive create: of two processes starting together, one salt wins.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        salt = secrets.token_bytes(16)
        with os.fdopen(fd, "wb") as file:
            file.write(salt)
        return salt

    def get(self, key: str) -> Any:
        return self._cache.get(key)

    def set(self, key: str, value: Any) -> None:
        self._cache.set(key, value, expire=self._ttl)

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> None:
        self._cache.clear()


class CachePlugin:
    """Serves repeated rerank and embeddings requests from memory (LRU) or a directory."""

    def __init__(
        self,
        maxsize: int = 1024,
        ttl: float | None = None,
        directory: str | os.PathLike[str] | None = None,
    ) -> None:
        if not isinstance(maxsize, int) or isinstance(maxsize, bool):
            raise InvalidArgumentTypeError("maxsize", "must be an integer")
        if maxsize < 1:
            raise InvalidArgumentError("maxsize", f"must be >= 1, got {maxsize}")
        if ttl is not None and (
            not isinstance(ttl, int | float) or isinstance(ttl, bool) or not ttl > 0
        ):
            raise InvalidArgumentError(
                "ttl", f"must be None or a number of seconds > 0, got {ttl!r}"
            )
        self.maxsize = maxsize
        self.ttl = ttl
        self.directory = None if directory is None else Path(directory)
        self._store: _MemoryStore | _DiskStore = (
            _MemoryStore(maxsize, ttl)
            if self.directory is None
            else _DiskStore(self.directory, ttl)
        )
        self._lock = threading.Lock()
        self.hits = 0
        """Answers served from the cache."""
        self.misses = 0
        """Cacheable requests that had to be sent."""

    def __repr__(self) -> str:
        where = "memory" if self.directory is None else str(self.directory)
        return f"CachePlugin({where}, entries={len(self)}, hits={self.hits}, misses={self.misses})"

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        """Drop every entry (the counters are kept)."""
        self._store.clear()

    def _key(self, request: httpx.Request) -> str:
        credential = request.headers.get("authorization", "").encode()
        partition = hashlib.sha256(self._store.salt + credential).hexdigest()[:32]
        return f"{partition}:{request_key(request)}"

    def _count(self, *, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        """Answer from the cache when the same request was answered before; else send and store."""
        bypass = request.headers.get(CACHE_HEADER, "").strip().lower() == "bypass"
        if CACHE_HEADER in request.headers:
            del request.headers[CACHE_HEADER]
        if bypass or request.method != "POST" or not request.url.path.endswith(_CACHED_PATHS):
            response = yield request
            assert response is not None
            return response
        key = self._key(request)
        entry = self._store.get(key)
        if entry is not None:
            self._count(hit=True)
            status, content_type, content = entry
            return httpx.Response(
                status,
                headers={"content-type": content_type, CACHE_HEADER: "hit"},
                content=content,
                request=request,
            )
        self._count(hit=False)
        response = yield request
        assert response is not None
        if response.is_success:
            content_type = response.headers.get("content-type", "application/json")
            self._store.set(key, (response.status_code, content_type, response.content))
        return response
