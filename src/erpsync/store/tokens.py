"""SqlTokenStore: OAuth tokens persisted in the credentials table, refreshed single-flight.

A rotated refresh token is the only copy of a credential the platform has just invalidated
the previous one of, so ``save`` commits in its own transaction before returning, and
``refresh_lock`` makes sure only one thread of one process refreshes a key at a time: a
threading.Lock per key inside the process, then, across processes, an flock on
``<db>.tokens.lock`` (SQLite: one machine) or a row lock on "token:<key>" in the ``leases``
table (PostgreSQL: every machine sharing the database; see erpsync.store.leases).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from erpsync.domain import utcnow
from erpsync.errors import StoreError
from erpsync.http.auth import Tokens
from erpsync.store import urls
from erpsync.store.db import Store
from erpsync.store.filelock import LockTimeout, flocked
from erpsync.store.tables import Credential

LOCK_SUFFIX = ".tokens.lock"
#: longer than a token request with its timeout; a holder stuck beyond this is a bug
LOCK_WAIT_SECONDS = 120.0

_thread_locks: dict[tuple[str, str], threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock(lock_file: str, key: str) -> threading.Lock:
    # module-wide, so two SqlTokenStore objects on one database share the same locks
    with _thread_locks_guard:
        return _thread_locks.setdefault((lock_file, key), threading.Lock())


class SqlTokenStore:
    """erpsync.http.auth.TokenStore backed by the store's ``credentials`` table."""

    def __init__(self, store: Store, *, lock_wait_seconds: float = LOCK_WAIT_SECONDS) -> None:
        self.store = store
        self.lock_path = urls.lock_path(store.url, LOCK_SUFFIX)
        self.lock_wait_seconds = lock_wait_seconds

    def load(self, key: str) -> Tokens | None:
        """The stored tokens of ``key`` with the seed they were saved under and the account
        they belong to, or None."""
        with self.store.session(readonly=True) as s:
            row = s.get(Credential, key)
        if row is None:
            return None
        return Tokens(
            access_token=row.access_token or "",
            refresh_token=row.refresh_token,
            expires_at=row.expires_at,
            seed=row.seed,
            account=row.account,
        )

    def save(self, key: str, tokens: Tokens, *, seed: str | None) -> None:
        """Replace the tokens of ``key``; committed (durable) when this returns."""
        with self.store.session() as s:
            row = s.get(Credential, key) or Credential(connector=key)
            row.access_token = tokens.access_token or None
            row.refresh_token = tokens.refresh_token
            row.expires_at = tokens.expires_at
            row.seed = seed
            row.account = tokens.account
            row.updated_at = utcnow()
            s.add(row)

    def forget(self, key: str) -> bool:
        """Delete the stored tokens of ``key`` (after re-authorisation); False if none."""
        with self.store.session() as s:
            row = s.get(Credential, key)
            if row is None:
                return False
            s.delete(row)
        return True

    @contextmanager
    def refresh_lock(self, key: str) -> Iterator[None]:
        """Held while ``key`` is refreshed: one thread, in one process, at a time.

        Raises:
            StoreError: another holder kept the lock longer than ``lock_wait_seconds``.
        """
        if self.store.dialect == "postgresql":
            with _thread_lock(self.store.url, key), self._row_lock(key):
                yield
            return
        with _thread_lock(str(self.lock_path), key):
            held = ExitStack()
            try:
                held.enter_context(
                    flocked(self.lock_path, wait_seconds=self.lock_wait_seconds, poll=0.05)
                )
            except LockTimeout:
                raise StoreError(
                    f"timed out waiting for the token refresh lock {self.lock_path}"
                ) from None
            except OSError as exc:
                raise StoreError(
                    f"cannot create the lock file {self.lock_path}: {exc.strerror or exc}"
                ) from exc
            with held:
                yield

    @contextmanager
    def _row_lock(self, key: str) -> Iterator[None]:
        from erpsync.store import leases

        held = ExitStack()
        try:
            held.enter_context(
                leases.row_locked(self.store, f"token:{key}", wait_seconds=self.lock_wait_seconds)
            )
        except leases.LockTimeout:
            raise StoreError(
                f"timed out waiting for the token refresh lock of {key} in {self.store.display_url}"
            ) from None
        with held:
            yield
