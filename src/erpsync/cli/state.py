"""What every command shares: the global options, and the config and store opened lazily."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from erpsync.cli.output import Output

if TYPE_CHECKING:
    from sqlmodel import Session

    from erpsync.config import Config
    from erpsync.store import Store


@dataclass
class State:
    config_path: str | None = None
    db: str | None = None
    output: Output = field(default_factory=Output)
    _config: Config | None = None
    _store: Store | None = None

    def config(self) -> Config:
        if self._config is None:
            from erpsync.config import load_config

            self._config = load_config(self.config_path, db=self.db)
            _install_redaction(self._config.secrets())
            self.output.timezone = self._config.timezone
        return self._config

    def store(self) -> Store:
        """The store, created (with its folder) when it does not exist yet."""
        if self._store is None:
            from erpsync.store import open_store

            self._store = open_store(self.config().database)
        return self._store

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session for read commands: no write lock (a long write does not block
        it, WAL), and a database that does not exist is an error, never created."""
        if self._store is None:
            from erpsync.store import open_store

            self._store = open_store(self.config().database, create=False)
        with self._store.session(readonly=True) as session:
            yield session

    @contextmanager
    def locked(self) -> Iterator[Store]:
        """The store, with this process as the only erpsync run writing to it."""
        from erpsync.engine.lock import run_lock

        wait = _lock_wait(os.environ.get("ERPSYNC_LOCK_WAIT", "5"))
        with run_lock(self.config().database, wait_seconds=wait):
            yield self.store()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def out(ctx: typer.Context, json_mode: bool = False) -> Output:
    output = state(ctx).output
    output.json_mode = json_mode
    return output


class _RedactingFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        from erpsync.http.redact import Redactor

        self.redactor = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        return True


def _install_redaction(secrets: list[str]) -> None:
    """Every log line passes through the redactor, whatever module logged it."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RedactingFilter(secrets))


def _lock_wait(text: str) -> float:
    from erpsync.errors import ConfigError

    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ConfigError(f"ERPSYNC_LOCK_WAIT: {text!r} is not a number of seconds (0 to 3600)")
    return seconds
