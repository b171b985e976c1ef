"""DrainPaginator: a queue (Vnda's Orders Feed, Anymarket's orders feed) read until it
answers empty."""

from __future__ import annotations

import httpx
import pytest

from erpsync.errors import FatalError
from erpsync.http.pagination import DrainPaginator
from erpsync.http.session import HttpSession


def session(handler) -> HttpSession:
    return HttpSession("https://api.test", transport=httpx.MockTransport(handler))


def queue_api(events: list[str], *, batch: int = 2, acknowledge: bool = True):
    """A feed that serves the oldest ``batch`` events and forgets those the caller acked."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=events[:batch])

    def ack(served: list[str]) -> None:
        if acknowledge:
            del events[: len(served)]

    return handler, requests, ack


def test_drain_reads_a_queue_until_it_answers_empty():
    """requirement: the same request again after each answer is acknowledged, to the end."""
    handler, requests, ack = queue_api(["a", "b", "c"])
    seen = []
    for page in session(handler).paginate(DrainPaginator(str), "/feed", records=list_of):
        seen.append(page.records)
        ack(page.records)
    assert seen == [["a", "b"], ["c"], []]
    assert len({str(r.url) for r in requests}) == 1 and len(requests) == 3


def test_drain_stops_when_the_acknowledgement_did_not_take():
    """requirement: the same answer twice is a loop: FatalError, not an endless listing."""
    handler, _, ack = queue_api(["a", "b", "c"], acknowledge=False)
    with pytest.raises(FatalError, match="pagination loop"):
        for page in session(handler).paginate(DrainPaginator(str), "/f", records=list_of):
            ack(page.records)


@pytest.mark.parametrize("stop", ["drain=False", "stop()"])
def test_drain_can_read_one_answer_only(stop):
    """requirement: a dry run (or nothing acknowledged) reads one answer and stops."""
    handler, requests, _ = queue_api(["a", "b", "c"])
    paginator = DrainPaginator(str, drain=stop != "drain=False")
    for _page in session(handler).paginate(paginator, "/feed", records=list_of):
        if stop == "stop()":
            paginator.stop()
    assert len(requests) == 1


def test_skip_seen_keeps_only_new_records_and_ends_when_none_is_new():
    """requirement: records not acknowledged come back next to new ones (an acknowledgement
    that failed): only the new ones are handed over, and an answer with none new ends the
    listing quietly."""
    events = ["a", "b"]
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=list(events))

    paginator = DrainPaginator(str, skip_seen=True)
    seen = []
    for page in session(handler).paginate(paginator, "/feed", records=list_of):
        seen.append(list(page.records))
        events[:] = ["b", "c"] if len(requests) == 1 else events  # "a" acked, "b" not, "c" new
    assert seen == [["a", "b"], ["c"], []]
    assert len(requests) == 3


def list_of(response: httpx.Response) -> list[str]:
    return response.json()
