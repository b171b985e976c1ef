"""Pagination strategies: how to ask for the next page, when to stop, and the runaway guards.

The contract is dlt's (dlt-hub/dlt: dlt/sources/helpers/rest_client/paginators.py:44,58):
``init_request`` -> send -> ``update_state(response, records)`` -> ``update_request`` while
``has_next_page``. The guards are singer-sdk's (meltano/sdk: singer_sdk/pagination.py:125): the
same token or offset twice is a loop; ``max_pages``/``max_offset`` stop a listing that would not
end. Strategies are configured by parameter names and callables, never subclassed per platform,
and hold state: use a fresh instance per listing call. The one loop that drives them is
``HttpSession.paginate``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import httpx

from erpsync.errors import FatalError

Params = dict[str, Any]


class PaginationCapReached(FatalError):
    """The listing goes past what the platform serves (or our cap): narrow the query.

    ``offset`` is the offset (or page) the listing reached, ``pages`` how many pages were read.
    """

    def __init__(self, message: str, *, offset: int | None = None, pages: int = 0) -> None:
        super().__init__(message)
        self.offset = offset
        self.pages = pages


@runtime_checkable
class Paginator(Protocol):
    """What ``HttpSession.paginate`` drives. ``next_url`` (optional attribute): an absolute URL
    the next request goes to instead of the listing's path."""

    has_next_page: bool

    def init_request(self, params: Params) -> None: ...

    def update_state(self, response: httpx.Response, records: list[Any]) -> None: ...

    def update_request(self, params: Params) -> None: ...


class BasePaginator:
    """Common guards: ``max_pages`` and loop detection on the position each page moves to."""

    def __init__(self, *, max_pages: int | None = None) -> None:
        self.has_next_page = True
        self.next_url: str | None = None
        self.pages = 0
        self.max_pages = max_pages
        self._positions: set[Any] = set()

    def init_request(self, params: Params) -> None:
        """Set the first page's parameters (default: none)."""

    def update_state(self, response: httpx.Response, records: list[Any]) -> None:
        raise NotImplementedError

    def update_request(self, params: Params) -> None:
        raise NotImplementedError

    def _count_page(self) -> None:
        self.pages += 1

    def _advance(self, position: Any, *, offset: int | None = None) -> None:
        """Record the position the next page starts at; stop runaway listings.

        ``offset``: where the listing got to (the last page read), for PaginationCapReached.
        """
        if position in self._positions:
            raise FatalError(
                f"pagination loop: the server sent position {position!r} twice "
                f"(after {self.pages} pages)"
            )
        self._positions.add(position)
        if self.max_pages is not None and self.pages >= self.max_pages:
            raise PaginationCapReached(
                f"more than {self.max_pages} pages: narrow the query",
                offset=offset,
                pages=self.pages,
            )

    def _stop(self) -> None:
        self.has_next_page = False


class OffsetPaginator(BasePaginator):
    """``offset``/``limit`` in records (Mercado Livre, Magalu's ``_offset``/``_limit``).

    Args:
        limit: page size asked for.
        offset_param / limit_param: query parameter names (``limit_param=None``: not sent).
        total: reads the total record count from a response, when the platform reports one.
        served_limit: reads the page size the server actually served (its cap, e.g. Magalu's
            ``meta.page.max_limit``), when it reports one. A smaller one becomes ``limit``, so a
            page cut by the server's cap is not mistaken for the short last page.
        max_offset: the largest offset the platform serves; going past raises
            PaginationCapReached (the caller narrows the window instead of losing records).
        start: the first offset.
        overlap: each page after the first starts this many records before the previous
            page's end (1 is enough), and ``key`` names a record. On a live, sorted result
            (records only leave it while we page: an updated order leaves an update-time
            window) a page whose first record is the previous page's last proves that no
            record moved across that boundary between the two reads, whatever order they
            were sent in: the records before it are the same in number. The repeated record
            is dropped from the page. A boundary that does not match (or an empty page after
            a full one) sets ``boundary_unproven``: something may have been skipped, and the
            caller reads the listing again. It assumes the platform orders equal sort keys
            the same way on every request.
    """

    #: pages are checked against each other (``overlap``): see ``boundary_unproven``
    proves_boundaries: bool

    def __init__(
        self,
        limit: int,
        *,
        offset_param: str = "offset",
        limit_param: str | None = "limit",
        total: Callable[[httpx.Response], int | None] | None = None,
        served_limit: Callable[[httpx.Response], int | None] | None = None,
        max_offset: int | None = None,
        start: int = 0,
        max_pages: int | None = None,
        overlap: int = 0,
        key: Callable[[Any], Any] | None = None,
    ) -> None:
        super().__init__(max_pages=max_pages)
        if limit <= 0:
            raise ValueError(f"limit must be positive, got {limit}")
        if overlap < 0 or (overlap and key is None):
            raise ValueError("overlap must be >= 0, and needs a key to compare records by")
        self.limit = limit
        self.overlap = overlap
        self.key = key
        self.proves_boundaries = overlap > 0
        #: a page boundary of this listing could not be shown intact (``overlap``)
        self.boundary_unproven = False
        #: the keys of the last ``overlap`` records of the page read last
        self._tail: list[Any] | None = None
        #: the listing's size as its last answer told it (``total``): no page is read ahead
        #: past it
        self.known_total: int | None = None
        self.offset = start
        self.offset_param = offset_param
        self.limit_param = limit_param
        self.total = total
        self.served_limit = served_limit
        self.max_offset = max_offset

    def init_request(self, params: Params) -> None:
        params[self.offset_param] = self.offset
        if self.limit_param:
            params[self.limit_param] = self.limit

    def update_state(self, response: httpx.Response, records: list[Any]) -> None:
        self._count_page()
        served = self.served_limit(response) if self.served_limit else None
        if served is not None and 0 < served < self.limit:
            self.limit = served
        total = self.total(response) if self.total else None
        if total is not None:
            self.known_total = total
        short = len(records) < self.limit
        if self.proves_boundaries:
            self._check_boundary(records)
        if short or (total is not None and self.offset + self.limit >= total):
            self._stop()
            return
        step = self.limit - self.overlap if self.limit > self.overlap else self.limit
        if self.proves_boundaries and step == self.limit:
            self.boundary_unproven = True  # pages too small to overlap prove nothing
        next_offset = self.offset + step
        if self.max_offset is not None and next_offset > self.max_offset:
            raise PaginationCapReached(
                f"offset {next_offset} would pass the platform's cap of {self.max_offset}"
                + (f" ({total} records match)" if total is not None else "")
                + ": narrow the query",
                offset=self.offset,
                pages=self.pages,
            )
        self._advance(next_offset, offset=self.offset)
        self.offset = next_offset

    def update_request(self, params: Params) -> None:
        params[self.offset_param] = self.offset
        if self.limit_param:
            params[self.limit_param] = self.limit  # it may have shrunk to the server's cap

    def upcoming(self, params: Params, count: int) -> list[Params]:
        """The parameters of the next ``count`` pages, the next one first, should each come
        full at the current limit (never past ``max_offset``, nor past a total the platform
        told): for reading pages ahead. A guess without a total: ``HttpSession.paginate``
        uses a page read ahead only when the listing asks for exactly its parameters."""
        step = self.limit - self.overlap if self.limit > self.overlap else self.limit
        found = []
        for index in range(count):
            offset = self.offset + index * step
            if self.max_offset is not None and offset > self.max_offset:
                break
            if self.known_total is not None and offset >= self.known_total:
                break
            page = {**params, self.offset_param: offset}
            if self.limit_param:
                page[self.limit_param] = self.limit
            found.append(page)
        return found

    def _check_boundary(self, records: list[Any]) -> None:
        """Compare this page's head with the previous page's tail; keep this page's tail."""
        assert self.key is not None
        head = [self.key(record) for record in records[: self.overlap]]
        tail = [self.key(record) for record in records[-self.overlap :]] if records else []
        if self._tail is not None:
            if head == self._tail:
                del records[: self.overlap]  # in place: the list the page yields
            else:
                self.boundary_unproven = True
        self._tail = tail


class PageNumberPaginator(BasePaginator):
    """``page``/``per_page`` (Nuvemshop, Bling, Tiny).

    Args:
        size: page size asked for; a shorter page is the last.
        page_param / size_param: query parameter names (``size_param=None``: not sent).
        first_page: the number of the first page (1 for most platforms).
        total_pages: reads the page count from a response, when the platform reports one.
    """

    def __init__(
        self,
        size: int,
        *,
        page_param: str = "page",
        size_param: str | None = "per_page",
        first_page: int = 1,
        total_pages: Callable[[httpx.Response], int | None] | None = None,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(max_pages=max_pages)
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        self.size = size
        self.page = first_page
        self.first_page = first_page
        self.page_param = page_param
        self.size_param = size_param
        self.total_pages = total_pages

    def init_request(self, params: Params) -> None:
        params[self.page_param] = self.page
        if self.size_param:
            params[self.size_param] = self.size

    def update_state(self, response: httpx.Response, records: list[Any]) -> None:
        self._count_page()
        total = self.total_pages(response) if self.total_pages else None
        pages_read = self.page - self.first_page + 1
        if len(records) < self.size or (total is not None and pages_read >= total):
            self._stop()
            return
        self._advance(self.page + 1, offset=self.page)
        self.page += 1

    def update_request(self, params: Params) -> None:
        params[self.page_param] = self.page


class CursorPaginator(BasePaginator):
    """An opaque next-page token read from each response (Amazon's ``NextToken``).

    Args:
        next_token: reads the token from a response; None or "" ends the listing.
        token_param: the parameter that carries it.
        keep_params: False drops the other parameters when a token is sent (APIs whose token
            encodes the filters and rejects them alongside).
    """

    def __init__(
        self,
        next_token: Callable[[httpx.Response], str | None],
        *,
        token_param: str = "NextToken",  # noqa: S107 - a parameter name, not a secret
        keep_params: bool = True,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(max_pages=max_pages)
        self.next_token = next_token
        self.token_param = token_param
        self.keep_params = keep_params
        self.token: str | None = None

    def update_state(self, response: httpx.Response, records: list[Any]) -> None:
        self._count_page()
        token = self.next_token(response)
        if not token:
            self._stop()
            return
        self._advance(token)
        self.token = token

    def update_request(self, params: Params) -> None:
        if not self.keep_params:
            params.clear()
        params[self.token_param] = self.token


class NextUrlPaginator(BasePaginator):
    """The next page's full URL, read from each response (a body link such as Magalu's
    ``meta.links.next``). The URL carries its own query: the listing's params are dropped."""

    def __init__(
        self,
        next_url: Callable[[httpx.Response], str | None],
        *,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(max_pages=max_pages)
        self._next_url_of = next_url

    def update_state(self, response: httpx.Response, records: list[Any]) -> None:
        self._count_page()
        url = self._next_url_of(response)
        if not url:
            self._stop()
            return
        absolute = str(response.request.url.join(url))
        self._advance(absolute)
        self.next_url = absolute

    def update_request(self, params: Params) -> None:
        params.clear()


class DrainPaginator(BasePaginator):
    """A queue read with the same request until it answers empty (Vnda's Orders Feed,
    Anymarket's orders feed): the queue moves on because the caller acknowledged (marked) the
    records of the previous answer, after storing them (``OrderPage.after_commit``).

    Args:
        key: names one record.
        drain: False reads one answer only (a dry run, or a queue that must not be marked).
        skip_seen: records already read in this listing are dropped from the answer (the page
            holds only the new ones) and an answer with none new ends the listing: for a queue
            whose unacknowledged records come back (an acknowledgement that failed, a dry run)
            next to new ones. Without it, an answer made only of records already read means
            the acknowledgement did not take, and the loop guard raises.
    """

    def __init__(
        self,
        key: Callable[[Any], Any],
        *,
        drain: bool = True,
        skip_seen: bool = False,
        max_pages: int | None = None,
    ) -> None:
        super().__init__(max_pages=max_pages)
        self.key = key
        self.drain = drain
        self.skip_seen = skip_seen
        self._seen: set[Any] = set()

    def update_state(self, response: httpx.Response, records: list[Any]) -> None:
        self._count_page()
        if self.skip_seen:
            # in place: ``records`` is the list the page yields
            records[:] = [r for r in records if self.key(r) not in self._seen]
            self._seen.update(self.key(r) for r in records)
        if not records or not self.drain:
            self._stop()
            return
        self._advance(frozenset(self.key(record) for record in records))

    def update_request(self, params: Params) -> None:
        """The same request: the queue moved on because its records were acknowledged."""

    def stop(self) -> None:
        """The caller will acknowledge nothing of the last answer: asking again would only
        get it back."""
        self._stop()


class LinkHeaderPaginator(NextUrlPaginator):
    """Follows the ``Link: <...>; rel="next"`` header (RFC 8288; Nuvemshop, GitHub-style APIs)."""

    def __init__(self, *, rel: str = "next", max_pages: int | None = None) -> None:
        super().__init__(lambda response: _link(response, rel), max_pages=max_pages)


def _link(response: httpx.Response, rel: str) -> str | None:
    link = response.links.get(rel)
    return link.get("url") if link else None
