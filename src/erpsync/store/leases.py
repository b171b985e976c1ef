"""Leases and row locks: several workers (on several machines) sharing one PostgreSQL database.

- A **run lease** per connector: a ``leases`` row ("connector:<name>") whose ``holder`` and
  ``expires_at`` say which worker runs that connector until when. ``claim_next`` picks a free
  one with ``SELECT ... FOR UPDATE SKIP LOCKED`` (two workers claiming at the same instant
  take different connectors, neither waits), a heartbeat thread extends held leases every
  third of their length, and ``release`` frees them, noting which command finished when: a
  worker that started before that does not run the same command on that connector again (its
  result would be no fresher), so workers share the connectors instead of each running all.
  A worker that dies stops renewing: its connectors are free again once its leases expire,
  and the next run resumes from their cursors (every page is one transaction). Expiry and
  "since" are judged by the server's clock, so the workers' clocks may disagree.
- A **presence lock** per worker: a session-level advisory lock on the worker's name, held on
  a connection of its own for as long as the worker lives. The server drops it with the
  connection, the moment a killed worker's socket closes, so `status` tells a dead worker's
  run ("died") from a live one at once instead of when its lease expires. (Session advisory
  locks need a session: behind a transaction-pooling PgBouncer, point erpsync at the server.)
- A **row lock** ("token:<key>") for the token refresh: ``row_locked`` holds ``FOR UPDATE`` on
  the row for the block, in a transaction of its own, so one refresh runs at a time across
  every machine, and a worker that dies mid-refresh drops the lock with its connection.

Both run on connections that take no write lock (``Store.reader``): a token request may take
seconds and must not hold up every other writer. SQLite keeps its file locks (engine.lock,
store.tokens): one machine, and the kernel releases them when a process dies.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from erpsync.errors import ConfigError
from erpsync.store.db import Store

log = logging.getLogger("erpsync.leases")

#: how long a run lease lasts without a heartbeat: how soon a dead worker's connectors resume
LEASE_SECONDS = 60.0
#: the heartbeat renews every third of the lease: shorter leases would renew too often
MIN_LEASE_SECONDS = 1.0
_LOCK_NOT_AVAILABLE = "55P03"

_ENSURE = text(
    "INSERT INTO leases (name) SELECT unnest(CAST(:names AS text[])) ON CONFLICT DO NOTHING"
)
_NOW = text("SELECT clock_timestamp()")
# free, and not already run by another worker for the same command since this run started
_PICK = text(
    "SELECT name FROM leases WHERE name = ANY(:names)"
    " AND (expires_at IS NULL OR expires_at < clock_timestamp())"
    " AND (finished_at IS NULL OR last_command IS DISTINCT FROM :command"
    " OR finished_at < :since)"
    " ORDER BY name LIMIT 1 FOR UPDATE SKIP LOCKED"
)
_TAKE = text(
    "UPDATE leases SET holder = :holder,"
    " expires_at = clock_timestamp() + make_interval(secs => :seconds) WHERE name = :name"
)
_RENEW = text(
    "UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => :seconds)"
    " WHERE name = ANY(:names) AND holder = :holder RETURNING name"
)
_RELEASE = text(
    "UPDATE leases SET holder = NULL, expires_at = NULL, last_command = :command,"
    " finished_at = clock_timestamp() WHERE name = :name AND holder = :holder"
)
_HELD = text(
    "SELECT name, holder FROM leases WHERE name LIKE 'connector:%'"
    " AND expires_at >= clock_timestamp()"
)
#: the advisory-lock namespace of presence locks ("ERPS"); the second key is the holder's hash
_PRESENCE = 0x45525053
_PRESENT = text("SELECT pg_advisory_lock(:space, hashtext(:holder))")
_ABSENT = text("SELECT pg_advisory_unlock(:space, hashtext(:holder))")
_PROBE = text("SELECT pg_try_advisory_lock_shared(:space, hashtext(:holder))")
_UNPROBE = text("SELECT pg_advisory_unlock_shared(:space, hashtext(:holder))")


def lease_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """The run lease length: ``ERPSYNC_LEASE_SECONDS`` (1 to 3600), else LEASE_SECONDS.

    Raises:
        ConfigError: not a number of seconds in that range.
    """
    raw = environ.get("ERPSYNC_LEASE_SECONDS")
    if raw is None or not raw.strip():
        return LEASE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not MIN_LEASE_SECONDS <= seconds <= 3600:
        raise ConfigError(
            f"ERPSYNC_LEASE_SECONDS: {raw!r} is not a number of seconds "
            f"({MIN_LEASE_SECONDS:g} to 3600)"
        )
    return seconds


class LockTimeout(Exception):
    """A row lock was still held by another worker when the wait ran out."""


def worker_name() -> str:
    """This process as lease holders are shown: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _key(connector: str) -> str:
    return f"connector:{connector}"


class RunLeases:
    """The run leases one worker holds; ``close()`` stops the heartbeat (leases then expire)."""

    def __init__(
        self,
        store: Store,
        command: str,
        *,
        seconds: float = LEASE_SECONDS,
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.command = command
        with store.reader() as connection:
            #: the server's time when this run began: what others finished since is done
            self.since = connection.execute(_NOW).scalar_one()
        self.seconds = seconds
        self.holder = holder or worker_name()
        self._presence: Connection | None = _announce(store, self.holder)
        self._held: set[str] = set()
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def claim_next(self, connectors: Sequence[str]) -> str | None:
        """Take the lease of the first free connector of ``connectors``; None if none is free."""
        if not connectors:
            return None
        keys = [_key(c) for c in connectors]
        with self.store.reader() as connection:
            with connection.begin():
                connection.execute(_ENSURE, {"names": keys})
            with connection.begin():
                key = connection.execute(
                    _PICK, {"names": keys, "command": self.command, "since": self.since}
                ).scalar()
                if key is None:
                    return None
                connection.execute(
                    _TAKE, {"holder": self.holder, "seconds": self.seconds, "name": key}
                )
        with self._guard:
            self._held.add(str(key))
        self._start_heartbeat()
        return str(key).removeprefix("connector:")

    def release(self, connector: str) -> None:
        """Give the lease back at once (a finished connector is free for the next run)."""
        key = _key(connector)
        with self._guard:
            self._held.discard(key)
        with self.store.reader() as connection, connection.begin():
            connection.execute(
                _RELEASE, {"name": key, "holder": self.holder, "command": self.command}
            )

    def close(self) -> None:
        """Stop renewing; leases not released expire after ``seconds``, and this worker no
        longer shows as present (its unreleased leases show as a dead worker's)."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        presence, self._presence = self._presence, None
        if presence is not None:
            try:
                with presence.begin():
                    presence.execute(_ABSENT, {"space": _PRESENCE, "holder": self.holder})
            finally:
                presence.close()

    def renew(self) -> list[str]:
        """Extend every held lease now; returns the connectors whose lease was lost."""
        with self._guard:
            keys = sorted(self._held)
        if not keys:
            return []
        with self.store.reader() as connection, connection.begin():
            kept = set(
                connection.execute(
                    _RENEW, {"names": keys, "holder": self.holder, "seconds": self.seconds}
                ).scalars()
            )
        lost = [k.removeprefix("connector:") for k in keys if k not in kept]
        with self._guard:
            self._held.difference_update(_key(name) for name in lost)
        for name in lost:
            # stalled longer than the lease: another worker may be running it now
            log.error("%s: lease lost (stalled over %.0f s)", name, self.seconds)
        return lost

    def _start_heartbeat(self) -> None:
        with self._guard:
            if self._heartbeat is not None:
                return
            self._heartbeat = threading.Thread(target=self._beat, name="erpsync-lease", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self.renew()
            except Exception:  # a blip must not kill the heartbeat; the next beat retries
                log.warning("lease heartbeat failed", exc_info=True)


def held_connectors(store: Store) -> dict[str, str]:
    """Connectors whose run lease is held (not expired) now by a live worker, with their
    holders. A lease whose holder's presence lock is gone belongs to a dead worker: it still
    blocks other workers until it expires (a stalled worker may yet write), but no run of it
    is going on."""
    with store.reader() as connection, connection.begin():
        rows = connection.execute(_HELD).all()
        alive = {holder: _present(connection, holder) for holder in {str(h) for _, h in rows}}
    return {
        str(name).removeprefix("connector:"): str(holder)
        for name, holder in rows
        if alive[str(holder)]
    }


def _announce(store: Store, holder: str) -> Connection:
    """Take ``holder``'s presence lock on a connection kept open for it (see module doc)."""
    connection = store.engine.connect()
    try:
        with connection.begin():
            connection.execute(_PRESENT, {"space": _PRESENCE, "holder": holder})
    except BaseException:
        connection.close()
        raise
    return connection


def _present(connection: Connection, holder: str) -> bool:
    """Whether ``holder``'s worker is alive: its presence lock is held (a shared try-lock
    fails against it; one that succeeds is given back at once)."""
    params = {"space": _PRESENCE, "holder": holder}
    if not connection.execute(_PROBE, params).scalar_one():
        return True
    connection.execute(_UNPROBE, params)  # session-level: given back by hand
    return False


@contextmanager
def row_locked(store: Store, name: str, *, wait_seconds: float) -> Iterator[None]:
    """Hold ``FOR UPDATE`` on the ``leases`` row ``name`` (created if missing) for the block.

    Raises:
        LockTimeout: another worker held it for longer than ``wait_seconds``.
    """
    with store.reader() as connection:
        with connection.begin():
            connection.execute(_ENSURE, {"names": [name]})
        transaction = connection.begin()
        try:
            _lock_row(connection, name, wait_seconds)
            yield
        finally:
            transaction.rollback()  # ends the lock; nothing was written under it


def _lock_row(connection: Connection, name: str, wait_seconds: float) -> None:
    # lock_timeout 0 would mean "wait forever": one millisecond is the shortest real wait
    milliseconds = max(1, int(wait_seconds * 1000))
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")
    try:
        connection.execute(
            text("SELECT name FROM leases WHERE name = :name FOR UPDATE"), {"name": name}
        )
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise LockTimeout(name) from None
        raise
