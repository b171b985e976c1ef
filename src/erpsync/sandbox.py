"""The sandbox emulators of one run: one per connector name, shared by the steps of a run.

A ``sandbox: true`` connector talks to its platform's in-process emulator. Every step of
``erpsync sync`` opens its own connector object, so without sharing, the ERP emulator that took
the orders in push-orders would be gone when invoices pull asks for them ("not found"), and a
channel's stock push would go to another emulator than the one its orders came from.

The sharing is scoped, never process-wide: ``sandbox_run()`` opens a scope (the CLI opens one
per invocation) and ``current()`` is what ``engine.runner.build_context`` hands the connectors
through ``ConnectorContext.sandboxes``. Outside a scope each connector builds its own emulator,
as before, so two in-process CLI invocations (tests) never share an emulator's state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any


class SandboxEmulators:
    """Emulator instances by connector name, built on first use (thread-safe: the steps'
    connectors run in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._emulators: dict[str, Any] = {}

    def get(self, name: str, build: Callable[[], Any]) -> Any:
        """The emulator of connector ``name``, built with ``build`` the first time."""
        with self._lock:
            if name not in self._emulators:
                self._emulators[name] = build()
            return self._emulators[name]

    def __len__(self) -> int:
        with self._lock:
            return len(self._emulators)


_current: ContextVar[SandboxEmulators | None] = ContextVar("erpsync_sandboxes", default=None)


def current() -> SandboxEmulators | None:
    """The open scope's emulators, or None outside any scope."""
    return _current.get()


@contextmanager
def sandbox_run() -> Iterator[SandboxEmulators]:
    """A scope whose connectors (through ``build_context``) share one emulator per name."""
    emulators = SandboxEmulators()
    token = _current.set(emulators)
    try:
        yield emulators
    finally:
        _current.reset(token)
