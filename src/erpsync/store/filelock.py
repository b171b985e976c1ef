"""Exclusive advisory file locks (``fcntl.flock``) with a bounded wait.

flock locks belong to an open file description, so two opens in one process exclude each other
as two processes do, and the kernel drops the lock when the process dies: a killed run never
leaves a stale lock behind. The lock file itself is never deleted (deleting it would let two
processes lock two different files of the same name).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class LockTimeout(Exception):
    """The lock was still held by someone else when the wait ran out."""


@contextmanager
def flocked(
    path: Path,
    *,
    wait_seconds: float,
    poll: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (created 0600 if missing) for the block.

    Raises:
        LockTimeout: not acquired within ``wait_seconds`` (0: one try).
        OSError: the lock file cannot be created.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, wait_seconds=wait_seconds, poll=poll, clock=clock, sleep=sleep)
        try:
            _note_owner(fd)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(
    fd: int,
    *,
    wait_seconds: float,
    poll: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    deadline = clock() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            remaining = deadline - clock()
            if remaining <= 0:
                raise LockTimeout from None
            sleep(min(poll, remaining))
        else:
            return


def _note_owner(fd: int) -> None:
    # for a human looking at the file; the lock itself is the flock, not this content
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
