"""Runs one command over many connectors: concurrently, failures isolated, every run recorded.

Each connector runs in its own thread with its own HTTP client. Platform rate limits, not our
CPU, bound a pull, so threads overlap the waiting; SQLite serialises the short write
transactions (WAL + busy_timeout). One connector failing never stops the others: its error is
recorded in ``sync_runs`` and reported as one line, and the command exits 1.

A connector that ran but could not take in everything (a push that failed for some listings,
orders newly quarantined, files rejected) is recorded as "partial" (the CLI exits 3). Ctrl-C
records every run still going as "interrupted" and re-raises.

On PostgreSQL a run takes each connector's lease before running it (erpsync.store.leases):
each thread claims the next free connector, runs it, gives the lease back and claims again,
so several workers on one database share the connectors and never run one twice at once. A
connector another worker holds is "skipped" (not an error: that worker is on it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from erpsync import sandbox
from erpsync.config import Config
from erpsync.connector import Capability, Connector, ConnectorContext
from erpsync.errors import ConfigError, ConnectorError, DatabaseError, ErpsyncError
from erpsync.http.redact import Redactor
from erpsync.registry import resolve
from erpsync.store import Store, runs
from erpsync.store.tokens import SqlTokenStore

log = logging.getLogger("erpsync.runner")
#: connectors run at once by default (threads: they mostly wait on the platforms)
MAX_PARALLEL = 8


@dataclass
class Outcome:
    connector: str
    #: False: the connector failed (``error`` says why)
    ok: bool
    report: Any = None
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    #: what an ok run could not take in ("2 listings failed"); the run is then partial
    shortfall: str | None = None
    #: not run here: another worker holds its lease (PostgreSQL); says which
    skipped: str | None = None

    @property
    def state(self) -> str:
        """The run's outcome as sync_runs records it: ok, partial or failed (or skipped)."""
        if self.skipped:
            return "skipped"
        return "failed" if not self.ok else "partial" if self.shortfall else "ok"


def select_connectors(
    config: Config, names: Sequence[str] | None, capability: Capability | None = None
) -> list[str]:
    """The enabled connectors, or exactly those named (an unknown name is a usage error);
    with ``capability``, only those whose type has it (a command runs on those it can)."""
    if names:
        unknown = [n for n in names if n not in config.connectors]
        if unknown:
            known = ", ".join(config.connectors) or "none configured"
            raise ConfigError(f"unknown connector {unknown[0]!r} (configured: {known})")
        selected = list(dict.fromkeys(names))
    else:
        selected = [name for name, s in config.connectors.items() if s.enabled]
    if capability is None:
        return selected
    return [n for n in selected if capability in resolve(config.connectors[n].type).capabilities]


def build_context(config: Config, store: Store, **overrides: Any) -> ConnectorContext:
    """The context a run hands its connectors; inside a ``sandbox_run()`` scope (one CLI
    invocation) sandbox connectors share one emulator per name across the run's steps."""
    overrides.setdefault("sandboxes", sandbox.current())
    return ConnectorContext(
        token_store=SqlTokenStore(store), secrets=tuple(config.secrets()), **overrides
    )


@contextmanager
def open_connector(config: Config, name: str, context: ConnectorContext) -> Iterator[Connector]:
    settings = config.connectors[name]
    connector = resolve(settings.type)(settings, context)
    try:
        yield connector
    finally:
        connector.close()


def run_all(
    config: Config,
    store: Store,
    names: Sequence[str],
    command: str,
    job: Callable[[Connector], Any],
    *,
    record: bool = True,
    context: ConnectorContext | None = None,
    parallel: int | None = None,
) -> list[Outcome]:
    """Run ``job`` on each named connector concurrently; one Outcome per connector, in order.

    ``parallel`` caps how many connectors run at once (default: all of them, up to 8).
    """
    redactor = Redactor(config.secrets())
    ctx = context or build_context(config, store)

    unfinished: dict[str, int] = {}

    def one(name: str) -> Outcome:
        run_id = None
        if record:
            with store.session() as session:
                run_id = runs.start_run(session, command, name)
            unfinished[name] = run_id
        try:
            with open_connector(config, name, ctx) as connector:
                report = job(connector)
            counts = report.counts() if hasattr(report, "counts") else {}
            shortfall = report.shortfall() if hasattr(report, "shortfall") else None
            outcome = Outcome(name, True, report, counts=counts, shortfall=shortfall)
        except DatabaseError:
            raise  # the store failed under every connector: the CLI says so once
        except ErpsyncError as exc:
            outcome = Outcome(name, False, error=redactor.text(_describe(exc, name)))
        except Exception as exc:  # a bug in one connector must not take the others down
            log.debug("%s failed", name, exc_info=True)
            outcome = Outcome(name, False, error=redactor.text(f"{type(exc).__name__}: {exc}"))
        if run_id is not None:
            with store.session() as session:
                runs.finish_run(
                    session,
                    run_id,
                    outcome.state,
                    outcome.counts,
                    outcome.error or outcome.shortfall,
                )
            unfinished.pop(name, None)
        return outcome

    workers = max(1, min(len(names), parallel or MAX_PARALLEL))
    try:
        if record and store.dialect == "postgresql":
            return _run_leased(store, command, names, one, workers)
        if len(names) <= 1:
            return [one(n) for n in names]
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="erpsync")
        try:
            return list(pool.map(one, names))
        finally:
            # on Ctrl-C, do not wait here for the other connectors to finish their pull
            pool.shutdown(wait=False, cancel_futures=True)
    except KeyboardInterrupt:
        _record_interrupted(store, dict(unfinished))
        raise


def _run_leased(
    store: Store,
    command: str,
    names: Sequence[str],
    one: Callable[[str], Outcome],
    workers: int,
) -> list[Outcome]:
    """Run each connector whose lease this worker can take; the others are skipped."""
    from erpsync.store.leases import RunLeases, held_connectors, lease_seconds

    leases = RunLeases(store, command, seconds=lease_seconds())
    outcomes: dict[str, Outcome] = {}
    pending = list(names)
    guard = threading.Lock()

    def claim_and_run() -> None:
        while True:
            with guard:
                candidates = list(pending)
            name = leases.claim_next(candidates)
            if name is None:
                return
            with guard:
                pending.remove(name)
            try:
                outcomes[name] = one(name)
            finally:
                leases.release(name)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="erpsync")
    try:
        for future in [pool.submit(claim_and_run) for _ in range(workers)]:
            future.result()
    finally:
        # Ctrl-C: do not wait; the leases of connectors still running expire, never released
        # while a thread of this process may still write
        pool.shutdown(wait=False, cancel_futures=True)
        leases.close()
    if pending:
        holders = held_connectors(store)
        for name in pending:
            holder = holders.get(name)
            outcomes[name] = Outcome(
                name,
                True,
                skipped=f"leased by {holder}"
                if holder
                else "another worker ran it since this run started",
            )
    return [outcomes[n] for n in names]


def _record_interrupted(store: Store, unfinished: dict[str, int]) -> None:
    """Mark the runs Ctrl-C cut short; their committed pages stay (each page is atomic)."""
    if not unfinished:
        return
    try:
        with store.session() as session:
            for run_id in unfinished.values():
                runs.finish_run(session, run_id, "interrupted", {}, "interrupted (Ctrl-C)")
    except Exception:  # the store may be what we were waiting on; the lock check covers it
        log.debug("could not record the interrupted runs", exc_info=True)


def _describe(exc: ErpsyncError, connector: str) -> str:
    """One line for the run log and the terminal; the connector's name is printed beside it."""
    if isinstance(exc, ConnectorError) and exc.connector == connector:
        base = Exception.__str__(exc)
        text = f"{exc.endpoint}: {base}" if exc.endpoint else base
    else:
        text = str(exc)
    return " ".join(text.split()) or type(exc).__name__
