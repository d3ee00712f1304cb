"""`CachePlugin`: answer a repeated rerank or embeddings request from a cache instead of the API.

A 2xx answer of ``POST .../rerank`` or ``POST .../embeddings`` is stored under
the SHA-256 of the method, the URL and the body in canonical JSON (keys sorted,
no spaces), so that the same request always finds the same entry whatever the
order its arguments were given in. The model is part of the body, hence of the
key.

Only answers the client accepted are stored: the plugin files an answer once it
has passed the status check, parsing and response validation (see
`when_accepted`), so a bad 200 (an index out of range, a cut or HTML body) is
raised once and never served again. With `with_raw_response`, that happens when
`.parse()` succeeds.

Credentials are not part of that hash, but entries are kept apart per
credential: each is filed under a fingerprint (SHA-256 of a random salt and
every credential header the request carries: ``Authorization``,
``Proxy-Authorization``, ``X-Api-Key``, ``Api-Key``, ``Cookie``), so two clients
with different credentials never see each other's answers, and no credential is
ever stored. The salt lives in the cache (memory, or a file in the directory),
so a re-run with the same credentials and directory finds its answers.

In memory the cache is an LRU of `maxsize` entries (cachetools), with entries
expiring after `ttl` seconds if given. With `directory`, entries are kept on
disk there (diskcache, SQLite-backed, safe across threads and processes), so a
re-run of an evaluation costs nothing; `maxsize` does not apply there (diskcache
bounds the directory to 1 GB), `ttl` does. A directory whose database or salt
cannot be used raises `CacheDirectoryError`, naming it.

A hit is the stored answer with its status and headers (``x-request-id``,
``x-together-rerank-engine``, ...; not hop-by-hop ones nor ``Set-Cookie``),
plus ``x-together-rerank-cache: hit``, and goes back through the client exactly
as a fresh one would: status check, parsing and response validation. Send the
header ``x-together-rerank-cache: bypass`` (``extra_headers={CACHE_HEADER:
"bypass"}``) to skip the cache for one request; the header is not sent on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from .._exceptions import InvalidArgumentError, InvalidArgumentTypeError, TogetherError
from .._plugins import Flow, RequestOptions, when_accepted
from .._secrets import SECRET_HEADERS

__all__ = ["CACHE_HEADER", "CacheDirectoryError", "CachePlugin"]

CACHE_HEADER = "x-together-rerank-cache"
"""Request header: ``bypass`` skips the cache. Response header: ``hit`` on a cached answer."""

_CACHED_PATHS = ("/rerank", "/embeddings")
_SALT_FILE = "key-salt"
_SALT_BYTES = 16
# Entries of an earlier layout (stored before they were checked, keyed on
# Authorization alone) are never read: their keys lack this prefix.
_KEY_VERSION = "v2"
# Not replayed on a hit: they describe the connection or the encoding of the
# bytes on the wire (the stored body is decoded), or set state (cookies).
_UNSTORED_HEADERS = frozenset(
    {
        "connection",
        "content-encoding",
        "content-length",
        "keep-alive",
        "set-cookie",
        "transfer-encoding",
        CACHE_HEADER,
    }
)


class CacheDirectoryError(TogetherError):
    """`CachePlugin(directory=...)` cannot use its directory (damaged database, unusable salt)."""

    def __init__(self, directory: Path, message: str) -> None:
        super().__init__(f"CachePlugin(directory={str(directory)!r}): {message}")
        self.directory = directory


class _Entry(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    content: bytes

    def encode(self) -> bytes:
        # Plain bytes, never a pickle: loading a pickle from a directory anyone
        # could write to would run their code.
        head = json.dumps({"status": self.status, "headers": self.headers}).encode()
        return head + b"\n" + self.content

    @classmethod
    def decode(cls, data: object) -> _Entry | None:
        if not isinstance(data, bytes):
            return None
        head, newline, content = data.partition(b"\n")
        try:
            meta: Any = json.loads(head if newline else b"")
            entry = cls(
                int(meta["status"]), [(str(n), str(v)) for n, v in meta["headers"]], content
            )
        except (ValueError, TypeError, KeyError):
            return None  # damaged: a miss, overwritten by the next answer
        return entry


def _canonical_body(content: bytes) -> bytes:
    try:
        value = json.loads(content)
    except ValueError:
        return content
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


def _update(digest: Any, part: bytes) -> None:
    # Length-prefixed, so that no two different sequences of parts hash alike.
    digest.update(len(part).to_bytes(8, "big"))
    digest.update(part)


def request_key(request: httpx.Request) -> str:
    """The hash a request is cached under: method, URL and canonical JSON body."""
    digest = hashlib.sha256()
    for part in (
        request.method.encode(),
        str(request.url).encode(),
        _canonical_body(request.content),
    ):
        _update(digest, part)
    return digest.hexdigest()


def credential_fingerprint(salt: bytes, request: httpx.Request) -> str:
    """A salted hash of every credential header `request` carries (the redactor's list)."""
    digest = hashlib.sha256()
    _update(digest, salt)
    credentials = sorted(
        (name.lower(), value)
        for name, value in request.headers.raw
        if name.decode("latin-1").lower() in SECRET_HEADERS
    )
    for name, value in credentials:
        _update(digest, name)
        _update(digest, value)
    return digest.hexdigest()[:32]


class _MemoryStore:
    def __init__(self, maxsize: int, ttl: float | None) -> None:
        from cachetools import Cache, LRUCache, TTLCache

        self._entries: Cache[str, _Entry] = (
            LRUCache(maxsize) if ttl is None else TTLCache(maxsize, ttl)
        )
        self._lock = threading.Lock()  # cachetools caches are not thread-safe
        self.salt = secrets.token_bytes(_SALT_BYTES)

    def get(self, key: str) -> _Entry | None:
        with self._lock:
            return self._entries.get(key)

    def set(self, key: str, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class _DiskStore:
    def __init__(self, directory: Path, ttl: float | None) -> None:
        import diskcache

        self.directory = directory
        self._ttl = ttl
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self.salt = _salt(directory)
            self._cache = diskcache.Cache(str(directory))
        except (OSError, sqlite3.Error) as exc:
            raise self._error(exc) from exc

    def _error(self, exc: BaseException) -> CacheDirectoryError:
        if isinstance(exc, sqlite3.DatabaseError):
            what = (
                "its database (cache.db) is damaged or not a cache database; "
                "move the directory away or delete it to start an empty cache"
            )
        else:
            what = "the directory cannot be used"
        return CacheDirectoryError(self.directory, f"{what} ({type(exc).__name__}: {exc})")

    def get(self, key: str) -> _Entry | None:
        try:
            data = self._cache.get(key)
        except (OSError, sqlite3.Error) as exc:
            raise self._error(exc) from exc
        return None if data is None else _Entry.decode(data)

    def set(self, key: str, entry: _Entry) -> None:
        try:
            self._cache.set(key, entry.encode(), expire=self._ttl)
        except (OSError, sqlite3.Error) as exc:
            raise self._error(exc) from exc

    def __len__(self) -> int:
        try:
            return len(self._cache)
        except (OSError, sqlite3.Error) as exc:
            raise self._error(exc) from exc

    def clear(self) -> None:
        try:
            self._cache.clear()
        except (OSError, sqlite3.Error) as exc:
            raise self._error(exc) from exc


def _salt(directory: Path) -> bytes:
    """The directory's salt: read, or made once; a damaged one (empty, cut short) is replaced."""
    path = directory / _SALT_FILE
    try:
        salt = path.read_bytes()
    except FileNotFoundError:
        # Written in full under another name, then linked into place: the salt
        # file is complete whenever it exists, and of two processes starting
        # together, one salt wins (the link fails for the second).
        _write_salt(directory, path, replace=False)
        salt = path.read_bytes()
    if len(salt) != _SALT_BYTES:
        # Left by a process killed mid-write before salts were written this
        # way. Entries filed under it become unreachable (misses), never wrong.
        _write_salt(directory, path, replace=True)
        salt = path.read_bytes()
        if len(salt) != _SALT_BYTES:
            raise CacheDirectoryError(
                directory, f"its {_SALT_FILE} file holds {len(salt)} bytes, not {_SALT_BYTES}"
            )
    return salt


def _write_salt(directory: Path, path: Path, *, replace: bool) -> None:
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{_SALT_FILE}-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(_SALT_BYTES))
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            # Another process may have made it first: theirs is used.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _stored_headers(response: httpx.Response) -> list[tuple[str, str]]:
    return [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in _UNSTORED_HEADERS
    ]


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
        partition = credential_fingerprint(self._store.salt, request)
        return f"{_KEY_VERSION}:{partition}:{request_key(request)}"

    def _count(self, *, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def _store_accepted(self, key: str, response: httpx.Response, result: object) -> None:
        """File `response` under `key`: called only once the client accepted it as `result`."""
        # The bytes the client accepted. Where a tolerance policy normalises an
        # answer (`result` then differs from the body), this is the one place
        # to store `result`'s JSON instead.
        entry = _Entry(response.status_code, _stored_headers(response), response.content)
        self._store.set(key, entry)

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
            return httpx.Response(
                entry.status,
                headers=[*entry.headers, (CACHE_HEADER, "hit")],
                content=entry.content,
                request=request,
            )
        self._count(hit=False)
        response = yield request
        assert response is not None
        if response.is_success:
            when_accepted(response, lambda result: self._store_accepted(key, response, result))
        return response
