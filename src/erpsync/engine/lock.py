"""One erpsync run at a time per SQLite database: an flock on ``<db>.lock``, waited for briefly.

On PostgreSQL several runs (workers, on several machines) share the database: the runner takes
a lease per connector instead (erpsync.store.leases), so ``run_lock`` holds nothing there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from erpsync.errors import LockHeldError, StoreError
from erpsync.store import urls
from erpsync.store.filelock import LockTimeout, flocked

LOCK_SUFFIX = ".lock"


@contextmanager
def run_lock(
    store_url: str,
    *,
    wait_seconds: float = 5.0,
    poll: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the run lock of the database at ``store_url`` for the block.

    The lock is an flock on ``<db>.lock`` beside a SQLite file (a per-URL file in the temp dir
    for other databases). The kernel releases it when the process exits, however it exits, so
    a killed run leaves nothing stale. A second run polls every ``poll`` seconds for up to
    ``wait_seconds``, then gives up.

    Raises:
        LockHeldError: another run still holds the lock after ``wait_seconds``.
        StoreError: the lock file cannot be created.
    """
    if urls.is_postgresql(store_url):
        yield  # leases per connector, taken by erpsync.engine.runner
        return
    path = urls.lock_path(store_url, LOCK_SUFFIX)
    held = ExitStack()
    # only acquiring is translated: errors raised by the caller's block pass through untouched
    try:
        held.enter_context(
            flocked(path, wait_seconds=wait_seconds, poll=poll, clock=clock, sleep=sleep)
        )
    except LockTimeout:
        where = urls.display(store_url)
        raise LockHeldError(f"another erpsync run is using {where}; try again later") from None
    except OSError as exc:
        raise StoreError(f"cannot create the lock file {path}: {exc.strerror or exc}") from exc
    with held:
        yield


def run_lock_held(store_url: str) -> bool:
    """True while some process holds the run lock of the database at ``store_url``.

    Tries the lock without waiting and lets it go at once; never creates the lock file (a
    database whose lock file does not exist has never had a run).
    """
    import fcntl
    import os

    path = urls.lock_path(store_url, LOCK_SUFFIX)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing the descriptor releases a lock we took
    return False
