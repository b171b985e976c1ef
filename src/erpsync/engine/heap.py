"""A long pull's collections stay cheap: the start-up heap is frozen when the first pull starts.

CPython's generational collector scans every tracked object in a full collection: the imported
modules' hundreds of thousands, in a process that made few of them since. So, once a run has
started, the objects alive then are moved out of the collector's sight (``gc.freeze``: modules,
the config, the connector; they live as long as the process anyway) and the collections the
thresholds trigger during the pull scan only what the pull made since.

A committed page leaves no reference cycles behind that matter: its responses, the largest by
far (each with its body and parsed payload), are freed by their last reference
(``erpsync.http.session._unbind``), and what is left per page is a few dozen SQLAlchemy objects.
A full collection after each page was made here when the responses were cyclic (88 → 82 MiB
at 2,000 orders); since they are not, it freed nothing and cost 3.5-5.5 ms of CPU a page
(``bench/pull_orders.py``, README: Benchmarks), so the collector's own thresholds do it.

Only a process that is erpsync's alone does this (``erpsync.cli.main`` from the console script
or ``python -m erpsync``): a library caller or a test run keeps its collector as it was.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_enabled = False
_frozen = False


def enable() -> None:
    """This process is erpsync's CLI: a pull may freeze the start-up heap."""
    global _enabled
    _enabled = True


def start() -> None:
    """A pull starts: the first one in the process freezes what is alive (after one last full
    collection, so no garbage is frozen)."""
    global _frozen
    if not _enabled:
        return
    with _lock:  # connectors of one sync start their pulls in threads of their own
        if _frozen:
            return
        gc.collect()
        gc.freeze()
        _frozen = True
