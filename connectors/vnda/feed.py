"""DrainPaginator: the Orders Feed is a queue read until it answers empty.

The same request again after the caller has marked (acknowledged) the records of the previous
answer. It belongs in ``erpsync.http.pagination`` once a second queue needs it (Anymarket's
feed has the same shape); it lives here until then so the connector lands on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from erpsync.http.pagination import BasePaginator, Params


class DrainPaginator(BasePaginator):
    """A queue read until it answers empty.

    Args:
        key: names one record; an answer made only of records already seen means the caller's
            acknowledgement did not take, and the loop guard stops the listing.
        drain: False reads one answer only (a dry run, or a queue that must not be marked).
    """

    def __init__(
        self,
        key: Callable[[Any], Any],
        *,
        drain: bool = True,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(max_pages=max_pages)
        self.key = key
        self.drain = drain

    def update_state(self, response: httpx.Response, records: list[Any]) -> None:
        self._count_page()
        if not records or not self.drain:
            self._stop()
            return
        self._advance(frozenset(self.key(record) for record in records))

    def update_request(self, params: Params) -> None:
        """The same request: the queue moved on because its records were acknowledged."""

    def stop(self) -> None:
        """The caller acknowledged nothing of the last answer: asking again would only get
        it back."""
        self._stop()
