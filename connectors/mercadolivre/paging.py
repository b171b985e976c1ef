"""Paging helpers for ML's searches: paging.total, and the scan mode's scroll paginator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from erpsync.errors import FatalError
from erpsync.http.pagination import BasePaginator, Params

#: the scan mode's cursor parameter (ref: pt_br/itens-e-buscas, "Scan + Hash")
SCROLL_PARAM = "scroll_id"


class ScrollPaginator(BasePaginator):
    """`search_type=scan` paging: resend the same GET with the `scroll_id` until a page is empty.

    ML documents that the next pages come from "the same GET" (ref: developers.mercadolibre.com
    news 2017-12-21 "Scan + Hash"), so the scroll_id may repeat: the shared CursorPaginator
    would take that for a loop. The runaway guard here is the page count paging.total allows.
    """

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.token: str | None = None

    def update_state(self, response: httpx.Response, records: list[Any]) -> None:
        self._count_page()
        body = response.json()
        token = body.get(SCROLL_PARAM)
        if not records or not token:
            self._stop()
            return
        total = paging_total(response)
        if total is not None and self.pages > total // self.limit + 2:
            raise FatalError(f"scan did not end after {self.pages} pages for {total} results")
        self.token = str(token)

    def update_request(self, params: Params) -> None:
        params[SCROLL_PARAM] = self.token


def paging_total(response: httpx.Response) -> int | None:
    """`paging.total` of a search response."""
    total = (response.json().get("paging") or {}).get("total")
    return int(total) if total is not None else None


def close(pages: Iterator[Any]) -> None:
    """Stop a page generator early (its pending request is never sent)."""
    stop = getattr(pages, "close", None)
    if stop is not None:
        stop()
