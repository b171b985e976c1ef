"""Sync cursors: how far each connector's resource has been read; they only move forward."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from erpsync.domain import to_utc, utcnow
from erpsync.store.tables import SyncCursor


def get_cursor(s: Session, connector: str, resource: str = "orders") -> datetime | None:
    """The stored cursor (aware UTC), or None before the first successful pull."""
    row = s.get(SyncCursor, (connector, resource))
    return None if row is None else row.value


def advance_cursor(s: Session, connector: str, resource: str, value: datetime) -> datetime:
    """Move the cursor to ``value`` unless it is already there or beyond; return the stored value.

    Never moving backwards is what makes a late or replayed checkpoint harmless.

    Raises:
        ValueError: ``value`` is naive.
    """
    value = to_utc(value)
    row = s.get(SyncCursor, (connector, resource))
    if row is None:
        row = SyncCursor(connector=connector, resource=resource, value=value, updated_at=utcnow())
    elif value <= row.value:
        return row.value
    else:
        row.value = value
        row.updated_at = utcnow()
    s.add(row)
    s.flush()
    return row.value


def reset_cursor(
    s: Session, connector: str, resource: str = "orders", value: datetime | None = None
) -> None:
    """Set the cursor to ``value`` even backwards, or forget it (None): an explicit re-read."""
    row = s.get(SyncCursor, (connector, resource))
    if value is None:
        if row is not None:
            s.delete(row)
            s.flush()
        return
    value = to_utc(value)
    if row is None:
        row = SyncCursor(connector=connector, resource=resource, value=value)
    row.value = value
    row.updated_at = utcnow()
    s.add(row)
    s.flush()


def all_cursors(s: Session) -> list[SyncCursor]:
    """Every cursor, by connector and resource (for ``erpsync status``)."""
    query = select(SyncCursor).order_by(col(SyncCursor.connector), col(SyncCursor.resource))
    return list(s.exec(query).all())
