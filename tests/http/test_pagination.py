"""Pagination strategies and their guards, unit-level and through HttpSession.paginate."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from erpsync.errors import FatalError
from erpsync.http.pagination import (
    CursorPaginator,
    LinkHeaderPaginator,
    NextUrlPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    PaginationCapReached,
    Paginator,
)


def offset_api(total: int, *, limit_cap: int = 50):
    """A fake ML-style search: offset/limit over ``total`` records, paging.total reported."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        offset = int(request.url.params.get("offset", 0))
        limit = min(int(request.url.params.get("limit", 50)), limit_cap)
        results = list(range(offset, min(offset + limit, total)))
        return httpx.Response(
            200,
            json={"paging": {"total": total, "offset": offset, "limit": limit}, "results": results},
        )

    return handler, requests


def results(response: httpx.Response) -> list[int]:
    return response.json()["results"]


def test_offset_pages_to_the_end(mock_connector):
    """requirement: offset paging reads every record once and stops on the short last page."""
    handler, requests = offset_api(120)
    connector = mock_connector(handler)
    pages = list(
        connector.paginate(
            OffsetPaginator(50), "/orders/search", records=results, params={"seller": "1"}
        )
    )
    assert [len(p.records) for p in pages] == [50, 50, 20]
    assert [n for page in pages for n in page.records] == list(range(120))
    assert [(p.number, p.last) for p in pages] == [(1, False), (2, False), (3, True)]
    assert pages[0].response.json()["paging"]["total"] == 120
    assert [dict(r.url.params) for r in requests] == [
        {"seller": "1", "offset": "0", "limit": "50"},
        {"seller": "1", "offset": "50", "limit": "50"},
        {"seller": "1", "offset": "100", "limit": "50"},
    ]


def test_offset_stops_at_total_without_an_empty_page(mock_connector):
    """requirement: when the total is known, no request is made past it."""
    handler, requests = offset_api(100)
    connector = mock_connector(handler)
    paginator = OffsetPaginator(50, total=lambda r: r.json()["paging"]["total"])
    assert len(list(connector.paginate(paginator, "/s", records=results))) == 2
    assert len(requests) == 2


def test_empty_listing_yields_one_empty_last_page(mock_connector):
    """requirement: an empty first page is the last: one page without records, one request
    (its response still says what the platform said, e.g. a total or a checkpoint)."""
    handler, requests = offset_api(0)
    pages = list(mock_connector(handler).paginate(OffsetPaginator(50), "/s", records=results))
    assert [(p.records, p.last) for p in pages] == [([], True)]
    assert len(requests) == 1


def test_offset_cap_raises_with_the_offset_reached(mock_connector):
    """requirement: a listing that would pass the platform's offset cap raises
    PaginationCapReached (carrying the offset reached) instead of silently truncating."""
    handler, _ = offset_api(500)
    connector = mock_connector(handler)
    paginator = OffsetPaginator(50, max_offset=100, total=lambda r: r.json()["paging"]["total"])
    pages = []
    with pytest.raises(PaginationCapReached) as raised:
        pages.extend(connector.paginate(paginator, "/orders/search", records=results))
    assert len(pages) == 2  # offsets 0 and 50; offset 150 would pass the cap
    assert raised.value.offset == 100
    assert str(raised.value) == (
        "x1 GET /orders/search: offset 150 would pass the platform's cap of 100 "
        "(500 records match): narrow the query"
    )


def test_offset_adopts_the_limit_the_server_served(mock_connector):
    """requirement: a server that caps the page size (and says so) is not mistaken for a short
    last page: the limit shrinks to what it served and paging goes on to the end."""
    handler, requests = offset_api(45, limit_cap=20)
    paginator = OffsetPaginator(50, served_limit=lambda r: r.json()["paging"]["limit"])
    pages = list(mock_connector(handler).paginate(paginator, "/s", records=results))
    assert [len(p.records) for p in pages] == [20, 20, 5]
    assert [(r.url.params["offset"], r.url.params["limit"]) for r in requests] == [
        ("0", "50"),
        ("20", "20"),
        ("40", "20"),
    ]


def live_api(records: list[int], *, after_request=None):
    """An offset API over a live list (``records``, changed by ``after_request(n)`` once the
    n-th request has been answered), without a total."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        page = records[offset : offset + limit]
        if after_request is not None:
            after_request(len(requests))
        return httpx.Response(200, json={"results": page})

    return handler, requests


def test_overlapping_offset_pages_prove_their_boundaries(mock_connector):
    """requirement: with overlap, each page starts on the previous page's last record; when
    it is there, no record moved across the boundary: the repeat is dropped, every record
    comes once, and the session counts no listing that may have skipped one."""
    handler, requests = live_api(list(range(12)))
    connector = mock_connector(handler)
    paginator = OffsetPaginator(5, overlap=1, key=lambda n: n)
    pages = list(connector.paginate(paginator, "/s", records=results))
    assert [n for page in pages for n in page.records] == list(range(12))
    assert [r.url.params["offset"] for r in requests] == ["0", "4", "8"]
    assert not paginator.boundary_unproven
    assert connector.http.unproven_listings == 0


def test_a_record_leaving_a_live_list_mid_listing_leaves_the_boundary_unproven(
    mock_connector,
):
    """requirement: two records of page 1 leave the list before page 2 is read: page 2
    starts past page 1's last record, so the one between them was skipped. The boundary is
    unproven and the session counts the listing (the engine reads the window again)."""
    live = list(range(12))

    def drop_two(answered: int) -> None:
        if answered == 1:
            del live[:2]

    handler, _ = live_api(live, after_request=drop_two)
    connector = mock_connector(handler)
    paginator = OffsetPaginator(5, overlap=1, key=lambda n: n)
    seen = [
        n for page in connector.paginate(paginator, "/s", records=results) for n in page.records
    ]
    assert 5 not in seen  # page 2 (offset 4) read 6-10
    assert paginator.boundary_unproven
    assert connector.http.unproven_listings == 1


def test_listings_without_overlap_past_their_first_page_count_as_unproven(mock_connector):
    """requirement: plain offset paging proves nothing: a listing past its first page counts;
    one that fits its first page has no boundary and does not."""
    handler, _ = live_api(list(range(7)))
    connector = mock_connector(handler)
    list(connector.paginate(OffsetPaginator(5), "/s", records=results))
    assert connector.http.unproven_listings == 1
    list(connector.paginate(OffsetPaginator(10), "/s", records=results))
    assert connector.http.unproven_listings == 1


def test_offset_pages_read_ahead_come_in_order_each_once(mock_connector):
    """requirement: on a platform that tells no total, later pages are requested before they
    are asked for once answers wait on the network; the listing still yields every record
    once, in order, each boundary checked; the pages asked for past the last one (the
    guesses that missed) are fewer than ``ahead``."""
    threads: list[str] = []
    handler, requests = live_api(list(range(60)))

    def recording(request: httpx.Request) -> httpx.Response:
        threads.append(threading.current_thread().name)
        return handler(request)

    connector = mock_connector(recording)
    connector.http.round_trips.record(0.3)  # answers take a real platform's 300 ms
    paginator = OffsetPaginator(5, overlap=1, key=lambda n: n)
    pages = list(connector.paginate(paginator, "/s", records=results, ahead=3))
    assert [n for page in pages for n in page.records] == list(range(60))
    assert connector.http.unproven_listings == 0
    offsets = sorted(int(r.url.params["offset"]) for r in requests)
    assert offsets[: len(pages)] == [4 * n for n in range(len(pages))]  # each page once
    assert 0 <= len(requests) - len(pages) < 3
    assert any(name.startswith("erpsync-") for name in threads)  # some went out early


def test_a_shift_is_still_caught_when_pages_are_read_ahead(mock_connector):
    """requirement: pages read ahead are checked as if read alone: two records of page 1
    leave the list before the later pages are asked for, and the listing's boundary is
    unproven (the engine reads the window again)."""
    live = list(range(40))

    def drop_two(answered: int) -> None:
        if answered == 1:
            del live[:2]

    handler, _ = live_api(live, after_request=drop_two)
    connector = mock_connector(handler)
    connector.http.round_trips.record(0.3)
    paginator = OffsetPaginator(5, overlap=1, key=lambda n: n)
    pages = list(connector.paginate(paginator, "/s", records=results, ahead=3))
    assert 5 not in [n for page in pages for n in page.records]
    assert connector.http.unproven_listings == 1


def test_no_page_is_read_ahead_while_answers_come_at_once(mock_connector):
    """requirement: a listing whose answers come at once (no network wait) asks for
    exactly its pages, one after the other, on the caller's thread."""
    handler, requests = live_api(list(range(30)))
    connector = mock_connector(handler)
    pages = list(
        connector.paginate(
            OffsetPaginator(5, overlap=1, key=lambda n: n), "/s", records=results, ahead=3
        )
    )
    assert [n for page in pages for n in page.records] == list(range(30))
    assert [r.url.params["offset"] for r in requests] == [str(4 * n) for n in range(len(pages))]


def _held_until(requests: list[httpx.Request], count: int, seconds: float = 2.0) -> list[int]:
    """The offsets asked for once ``count`` requests were made (or ``seconds`` passed)."""
    deadline = time.monotonic() + seconds
    while len(requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # none more should come
    return sorted(int(r.url.params["offset"]) for r in requests)


def test_the_next_page_is_asked_for_while_the_caller_holds_this_one(mock_connector):
    """requirement: once answers wait on the network, the next page is requested before a
    page is handed over: the caller's work on it (storing it) does not hold the listing
    back."""
    handler, requests = live_api(list(range(60)))
    connector = mock_connector(handler)
    connector.http.round_trips.record(0.3)
    pages = connector.paginate(
        OffsetPaginator(5, overlap=1, key=lambda n: n), "/s", records=results, ahead=3
    )
    first = next(pages)  # held: the caller stores it
    assert first.records == [0, 1, 2, 3, 4]
    assert _held_until(requests, 2)[:2] == [0, 4]
    assert [n for page in pages for n in page.records] == list(range(5, 60))


def test_without_a_total_the_read_ahead_widens_a_page_per_page_read(mock_connector):
    """requirement: on a platform that tells no total, the read-ahead widens by one page for
    every page read, up to ``ahead``: while the caller holds the second page, the next three
    are on their way."""
    handler, requests = live_api(list(range(60)))
    connector = mock_connector(handler)
    connector.http.round_trips.record(0.3)
    pages = connector.paginate(
        OffsetPaginator(5, overlap=1, key=lambda n: n), "/s", records=results, ahead=3
    )
    next(pages)
    next(pages)  # held
    assert _held_until(requests, 5) == [0, 4, 8, 12, 16]
    pages.close()


def test_a_quiet_listing_costs_one_request_and_a_short_one_wastes_at_most_one(mock_connector):
    """requirement: with pages read ahead, a listing that ends on its first page asks for
    that page only; one of two pages asks for at most one page past its end."""
    for size, most in ((3, 1), (8, 3)):
        handler, requests = live_api(list(range(size)))
        connector = mock_connector(handler)
        connector.http.round_trips.record(0.3)
        paginator = OffsetPaginator(5, overlap=1, key=lambda n: n)
        pages = list(connector.paginate(paginator, "/s", records=results, ahead=4))
        assert [n for page in pages for n in page.records] == list(range(size))
        assert len(_held_until(requests, most + 1, seconds=0.2)) <= most


def test_max_pages_guard(mock_connector):
    """requirement: max_pages stops a listing that would not end."""
    handler, _ = offset_api(10_000)
    paginator = OffsetPaginator(50, max_pages=3)
    with pytest.raises(PaginationCapReached, match="more than 3 pages") as raised:
        list(mock_connector(handler).paginate(paginator, "/s", records=results))
    assert (raised.value.offset, raised.value.pages) == (100, 3)


def test_page_number_paging():
    """requirement: page numbers count from first_page and stop on a short page or total_pages."""
    paginator = PageNumberPaginator(
        2, size_param="limit", total_pages=lambda r: r.json().get("pages")
    )
    params: dict = {}
    paginator.init_request(params)
    assert params == {"page": 1, "limit": 2}
    paginator.update_state(httpx.Response(200, json={"pages": 3}), [1, 2])
    paginator.update_request(params)
    assert params == {"page": 2, "limit": 2} and paginator.has_next_page
    paginator.update_state(httpx.Response(200, json={"pages": 3}), [3, 4])
    paginator.update_request(params)
    paginator.update_state(httpx.Response(200, json={"pages": 3}), [5, 6])
    assert not paginator.has_next_page
    short = PageNumberPaginator(2)
    short.update_state(httpx.Response(200, json={}), [1])
    assert not short.has_next_page


def token_api(tokens: dict[str | None, str | None]):
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        token = request.url.params.get("NextToken")
        return httpx.Response(
            200, json={"payload": {"Orders": [token or "first"], "NextToken": tokens[token]}}
        )

    return handler, requests


def orders(response: httpx.Response) -> list:
    return response.json()["payload"]["Orders"]


def next_token(response: httpx.Response) -> str | None:
    return response.json()["payload"].get("NextToken")


@pytest.mark.parametrize(
    ("keep_params", "second_params"),
    [(True, {"CreatedAfter": "2026", "NextToken": "t1"}), (False, {"NextToken": "t1"})],
)
def test_cursor_paging(mock_connector, keep_params, second_params):
    """requirement: the token from each response is sent as token_param; keep_params=False
    drops the filters alongside the token."""
    handler, requests = token_api({None: "t1", "t1": "t2", "t2": None})
    paginator = CursorPaginator(next_token, keep_params=keep_params)
    pages = list(
        mock_connector(handler).paginate(
            paginator, "/orders/v0/orders", records=orders, params={"CreatedAfter": "2026"}
        )
    )
    assert [p.records for p in pages] == [["first"], ["t1"], ["t2"]]
    assert dict(requests[1].url.params) == second_params


def test_cursor_loop_is_detected(mock_connector):
    """requirement: the same token twice is a loop: FatalError, not an endless listing."""
    handler, _ = token_api({None: "t1", "t1": "t1"})
    with pytest.raises(FatalError) as raised:
        list(mock_connector(handler).paginate(CursorPaginator(next_token), "/o", records=orders))
    assert str(raised.value) == (
        "x1 GET /o: pagination loop: the server sent position 't1' twice (after 2 pages)"
    )


def test_link_header_paging(mock_connector):
    """requirement: rel="next" Link headers are followed to the end (absolute or relative)."""
    links = {
        "1": '<https://api.shop.test/products?page=2&per_page=2>; rel="next", <x>; rel="last"',
        "2": '</products?page=3&per_page=2>; rel="next"',
        "3": None,
    }
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("page", "1")
        seen.append(str(request.url))
        headers = {"Link": links[page]} if links[page] else {}
        return httpx.Response(200, json=[page], headers=headers)

    pages = list(
        mock_connector(handler).paginate(
            LinkHeaderPaginator(), "/products", records=lambda r: r.json(), params={"per_page": 2}
        )
    )
    assert [p.records for p in pages] == [["1"], ["2"], ["3"]]
    assert seen == [
        "https://api.shop.test/products?per_page=2",
        "https://api.shop.test/products?page=2&per_page=2",
        "https://api.shop.test/products?page=3&per_page=2",
    ]


def test_body_next_url(mock_connector):
    """requirement: a next-page URL in the body (Magalu's meta.links.next) is followed."""

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("_offset", 0))
        nxt = f"/seller/v1/orders?_offset={offset + 1}&_limit=1" if offset < 2 else None
        return httpx.Response(200, json={"results": [offset], "meta": {"links": {"next": nxt}}})

    paginator = NextUrlPaginator(lambda r: r.json()["meta"]["links"]["next"])
    pages = list(
        mock_connector(handler).paginate(
            paginator, "/seller/v1/orders", records=results, params={"_limit": 1}
        )
    )
    assert [p.records for p in pages] == [[0], [1], [2]]


def test_json_body_paging(mock_connector):
    """requirement: params_in="json" sends the paging parameters as the JSON body."""
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        body = json.loads(request.content)
        bodies.append(body)
        return httpx.Response(
            200, json={"results": [body["offset"]] * (2 if body["offset"] < 2 else 1)}
        )

    pages = list(
        mock_connector(handler).paginate(
            OffsetPaginator(2),
            "/search",
            method="POST",
            records=results,
            params={"q": "x"},
            params_in="json",
        )
    )
    assert bodies == [{"q": "x", "offset": 0, "limit": 2}, {"q": "x", "offset": 2, "limit": 2}]
    assert len(pages) == 2


@pytest.mark.parametrize(
    "paginator",
    [
        OffsetPaginator(1),
        PageNumberPaginator(1),
        CursorPaginator(next_token),
        LinkHeaderPaginator(),
    ],
)
def test_strategies_satisfy_the_protocol(paginator):
    """requirement: every strategy is a Paginator."""
    assert isinstance(paginator, Paginator)
    assert paginator.has_next_page


def test_invalid_sizes_are_rejected():
    """requirement: a zero page size is a bug in the connector."""
    with pytest.raises(ValueError, match="limit must be positive"):
        OffsetPaginator(0)
    with pytest.raises(ValueError, match="size must be positive"):
        PageNumberPaginator(0)


def test_no_page_is_read_ahead_past_a_total_the_platform_told(mock_connector):
    """requirement: on a platform that tells the listing's total, pages read ahead stop at
    it: every record once, in order, and no request for a page past the end."""
    asked: list[tuple[int, str]] = []  # (offset, thread), when sent
    handler, _ = offset_api(230, limit_cap=10)

    def slow(request: httpx.Request) -> httpx.Response:
        asked.append((int(request.url.params["offset"]), threading.current_thread().name))
        time.sleep(0.06)  # answers wait on the network, so the fan-out stays wide
        return handler(request)

    connector = mock_connector(slow)
    connector.http.round_trips.record(0.3)
    paginator = OffsetPaginator(10, total=lambda r: r.json()["paging"]["total"])
    pages = list(connector.paginate(paginator, "/s", records=results, ahead=4))
    assert [n for page in pages for n in page.records] == list(range(230))
    time.sleep(0.2)  # a page read ahead past the end would have been sent by now
    assert sorted(offset for offset, _ in asked) == [10 * n for n in range(23)]
    assert sum(thread.startswith("erpsync-") for _, thread in asked) > 3  # read ahead
