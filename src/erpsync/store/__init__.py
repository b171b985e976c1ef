"""The local store: ``open_store(url) -> Store``; query modules take a sqlmodel Session.

Importing this package is cheap (no SQLAlchemy, no Alembic): the CLI imports it at start-up,
and the database layer loads on the first ``open_store``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from erpsync.store.db import Store

__all__ = ["Store", "open_store"]


def open_store(url: str, *, migrate: bool = True, create: bool = True) -> Store:
    """Open (creating if needed) the database at ``url`` and migrate it to the newest schema.

    Args:
        url: a SQLAlchemy URL; ``sqlite:///path/erpsync.db`` (parent directory created) or
            ``sqlite://`` (in memory, one shared connection: for tests).
        migrate: run pending Alembic revisions (the default).
        create: False for read commands: a missing SQLite file is an error (exit 2), and
            neither it nor its folder is created.

    Raises:
        erpsync.errors.StoreError: the database cannot be opened or migrated (one line).
    """
    from erpsync.store import db

    return db.open_store(url, migrate=migrate, create=create)


def __getattr__(name: str) -> Any:
    # `from erpsync.store import Store` loads the database layer only when asked for
    if name == "Store":
        from erpsync.store.db import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
