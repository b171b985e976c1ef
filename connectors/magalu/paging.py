"""Open API list paging: `_offset`/`_limit`, the `results` array and `meta.page`.

The guide: `count` is "the number of records returned on this page" (not a total), and
`max_limit` the largest `_limit` the list accepts
(ref: https://developers.magalu.com/docs/development-guide/pagination-filtering-sorting).
A server that serves fewer records than we asked for because of its cap must not look like a
short (last) page, so the page size shrinks to what the server says it served (the generic
``served_limit`` of ``OffsetPaginator``).
A page whose `meta.links.next` is null is the last one, even when it is full: without that, a
listing ending on a full page costs one more request for an empty page (``total``).
"""

from __future__ import annotations

from typing import Any

import httpx

from erpsync.errors import FatalError
from erpsync.http.pagination import OffsetPaginator


def paginator(
    limit: int, *, max_offset: int | None = None, overlap: bool = False
) -> OffsetPaginator:
    """A fresh paginator for one Open API list.

    ``overlap``: each page starts on the previous page's last record (its ``id``), which
    proves no record shifted across the boundary (``OffsetPaginator``): for the orders list,
    a live result over an update-time window whose orders leave it when updated."""
    return OffsetPaginator(
        limit,
        offset_param="_offset",
        limit_param="_limit",
        served_limit=served_limit,
        total=listed_through,
        max_offset=max_offset,
        overlap=1 if overlap else 0,
        key=record_id if overlap else None,
    )


def record_id(record: Any) -> Any:
    return record.get("id") if isinstance(record, dict) else None


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


def listed_through(response: httpx.Response) -> int | None:
    """On the last page (`meta.links.next` present and null), the records listed through it
    (`meta.page.offset` + this page's `count`); None while there is a next page, or when the
    server sends no `links` (then a short page ends the listing, as before).

    The response shape `{meta: {page: {...}, links: {previous, next, self}}, results}` is the
    development guide's (ref: https://developers.magalu.com/docs/development-guide/pagination-filtering-sorting);
    the guide says `count` is this page's records (shared/apis notes it may be the total);
    either way offset + count reaches the end, so the paginator stops here."""
    try:
        data = response.json()
    except ValueError:
        return None
    meta = data.get("meta") if isinstance(data, dict) else None
    links = meta.get("links") if isinstance(meta, dict) else None
    if not isinstance(links, dict) or "next" not in links or links["next"] is not None:
        return None
    page = page_meta(response)
    offset, count = page.get("offset"), page.get("count")
    if not isinstance(offset, int) or not isinstance(count, int) or min(offset, count) < 0:
        return None
    return offset + count
