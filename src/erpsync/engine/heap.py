"""A long pull's memory stays flat: each page's reference cycles are freed with the page.

Measured with ``bench/pull_orders.py`` (README, Benchmarks: Memory and start-up): a committed
page leaves reference cycles behind (ORM sessions and the states of their rows, parsed
payloads referenced from them), which CPython's generational collector frees only when its
thresholds trip; by then later pages' cycles have piled up on them, and the process's peak RSS
was 6 MiB higher (88 against 82 MiB at 2,000 orders). A full collection after each page would
scan every object of the process (the imported modules' hundreds of thousands) and cost about
40% more CPU; so, once a run has started, the objects alive then are moved out of the
collector's sight (``gc.freeze``: modules, the config, the connector; they live as long as the
process anyway) and the collection after each page scans only what the pull made since: its
CPU cost was within the noise of the measurement.

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
    """This process is erpsync's CLI: a pull may freeze the start-up heap and collect per
    page."""
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


def page_done() -> None:
    """A page is committed: free the cycles it left (only the objects made since the freeze
    are scanned)."""
    if _frozen:
        gc.collect()
