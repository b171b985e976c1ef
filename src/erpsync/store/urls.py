"""Database URL helpers (stdlib only): SQLite file paths, lock-file paths and display forms."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_MEMORY_PATHS = ("", ":memory:")


def is_sqlite(url: str) -> bool:
    """True for ``sqlite://...`` URLs, with or without a ``+driver`` suffix."""
    return url.split(":", 1)[0].split("+", 1)[0].lower() == "sqlite"


def is_postgresql(url: str) -> bool:
    """True for ``postgresql://...`` URLs (any driver; ``postgres://`` too)."""
    return url.split(":", 1)[0].split("+", 1)[0].lower() in ("postgresql", "postgres")


def _sqlite_target(url: str) -> str:
    """What follows ``sqlite://`` without the query string: "" (memory), "/x.db", "//abs.db"."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    return rest.split("?", 1)[0]


def is_memory(url: str) -> bool:
    """True for an in-memory SQLite database (``sqlite://`` or ``sqlite:///:memory:``)."""
    if not is_sqlite(url):
        return False
    target = _sqlite_target(url)
    return target.removeprefix("/") in _MEMORY_PATHS or "mode=memory" in url


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory and non-SQLite databases.

    ``sqlite:///relative.db`` is relative to the working directory and ``sqlite:////abs.db``
    absolute, as SQLAlchemy reads them; ``sqlite:///file:path?mode=ro&uri=true`` is ``path``.
    """
    if not is_sqlite(url) or is_memory(url):
        return None
    target = _sqlite_target(url).removeprefix("/")
    if target.startswith("file:") and "uri=true" in url.lower():
        target = target.removeprefix("file:")
    return Path(target).expanduser()


def display(url: str) -> str:
    """The URL as it may appear in messages: a SQLite file path, or the URL without password."""
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    if is_memory(url):
        return "sqlite:// (in memory)"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable database URL>"
    if parts.password is None:
        return url.split("?", 1)[0]
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{parts.username or ''}:***@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def lock_path(url: str, suffix: str) -> Path:
    """A lock file for this database: ``<db><suffix>`` beside a SQLite file, else in the temp dir.

    Non-file databases get a name made from a hash of the URL, so every process that opens the
    same URL agrees on the same file without the URL (and its password) showing in a file name.
    """
    path = sqlite_path(url)
    if path is not None:
        return path.with_name(path.name + suffix)
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"erpsync-{digest}{suffix}"
