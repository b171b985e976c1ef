"""The run log: one sync_runs row per command and connector, with outcome and counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from erpsync.domain import utcnow
from erpsync.store.tables import RUN_OUTCOMES, SyncRun


def start_run(
    s: Session, command: str, connector: str | None, *, at: datetime | None = None
) -> int:
    """Record that ``command`` started for ``connector``; return the run id."""
    run = SyncRun(command=command, connector=connector, started_at=at or utcnow())
    s.add(run)
    s.flush()
    assert run.id is not None
    return run.id


def finish_run(
    s: Session,
    run_id: int,
    outcome: str,
    counts: dict[str, Any],
    error: str | None,
    *,
    at: datetime | None = None,
) -> None:
    """Close a run with its outcome ("ok", "failed", "dry-run"), counts and error line.

    Raises:
        ValueError: unknown outcome or run id.
    """
    if outcome not in RUN_OUTCOMES or outcome == "running":
        raise ValueError(f"unknown run outcome {outcome!r}")
    run = s.get(SyncRun, run_id)
    if run is None:
        raise ValueError(f"no run with id {run_id}")
    run.outcome = outcome
    run.counts = dict(counts)
    run.error = error
    run.finished_at = at or utcnow()
    s.add(run)
    s.flush()


def last_runs(s: Session, limit: int = 20, *, connector: str | None = None) -> list[SyncRun]:
    """The most recent runs first, optionally of one connector."""
    query = select(SyncRun)
    if connector is not None:
        query = query.where(SyncRun.connector == connector)
    query = query.order_by(col(SyncRun.started_at).desc(), col(SyncRun.id).desc())
    return list(s.exec(query.limit(limit)).all())
