"""Open API list paging: `_offset`/`_limit`, the `results` array and `meta.page`.

The guide: `count` is "the number of records returned on this page" (not a total), and
`max_limit` the largest `_limit` the list accepts
(ref: https://developers.magalu.com/docs/development-guide/pagination-filtering-sorting).
A server that serves fewer records than we asked for because of its cap must not look like a
short (last) page, so the page size shrinks to what the server says it served (the generic
``served_limit`` of ``OffsetPaginator``).
"""

from __future__ import annotations

from typing import Any

import httpx

from erpsync.errors import FatalError
from erpsync.http.pagination import OffsetPaginator


def paginator(limit: int, *, max_offset: int | None = None) -> OffsetPaginator:
    """A fresh paginator for one Open API list."""
    return OffsetPaginator(
        limit,
        offset_param="_offset",
        limit_param="_limit",
        served_limit=served_limit,
        max_offset=max_offset,
    )


def results(response: httpx.Response) -> list[Any]:
    data = response.json()
    found = data.get("results") if isinstance(data, dict) else None
    if not isinstance(found, list):
        raise FatalError("list response without a results array")
    return found


def page_meta(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    page = ((data or {}).get("meta") or {}).get("page") if isinstance(data, dict) else None
    return page if isinstance(page, dict) else {}


def served_limit(response: httpx.Response) -> int | None:
    """The smaller of `meta.page.limit` and `max_limit`, when the server reports them."""
    page = page_meta(response)
    served = [page.get("limit"), page.get("max_limit")]
    caps = [v for v in served if isinstance(v, int) and not isinstance(v, bool) and v > 0]
    return min(caps) if caps else None
