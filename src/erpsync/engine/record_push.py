"""The push flow of every resource sent to a channel record by record (invoices, tracking).

Record before send: each batch's push records are committed as "sent" before the request
goes out, then moved to the channel's answer. A run killed in between leaves "sent", which
the next run sends again; sinks take a record they already hold as accepted, so nothing is
lost and nothing is sent twice. The states (erpsync.postsale.domain.PushState):

    (none) ──▶ sent ──▶ accepted
                 ├───▶ pending ──verify──▶ accepted | refused | pending
                 ├───▶ failed   (transient or not ready yet: sent again next run)
                 └───▶ refused  (the channel said no: kept with its error; --again resends)

A resource (``RecordPush``) says which rows are due (``load``), how its sink takes and reads
them back (``send``, ``verify``) and what an accepted one changes (``accepted``); the loop,
the records (erpsync.store.pushes) and the report (``RecordPushReport``) are shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from sqlmodel import Session

from erpsync.domain import SendResult
from erpsync.engine.push_report import RecordPushReport
from erpsync.errors import ErpsyncError
from erpsync.postsale.domain import PushState
from erpsync.store import Store, pushes

T = TypeVar("T")
R = TypeVar("R", bound=RecordPushReport)

_DUE = (PushState.SENT.value, PushState.FAILED.value)


@dataclass(frozen=True)
class Due(Generic[T]):
    """One row to push: what its sink takes, and how its answer and errors name it."""

    #: the pushed row's id (its push record's key)
    row_id: int
    order_id: int
    item: T
    #: the ``SendResult.ref`` values that answer for it, the first preferred
    refs: tuple[str, ...]
    #: how the report's errors name it
    label: str


class RecordPush(ABC, Generic[T, R]):
    """One resource's push to one connector; ``run`` it once per run."""

    kind: ClassVar[pushes.PushKind[Any]]

    def __init__(self, name: str, report: R, batch_size: int) -> None:
        self.name = name
        self.report = report
        self.batch_size = max(1, batch_size)

    @abstractmethod
    def load(self, session: Session, states: Sequence[str], *, unsent: bool) -> list[Due[T]]:
        """The rows whose push record is in ``states`` (and, with ``unsent``, those with none
        yet), oldest first. ``unsent`` is the load of what is due: rows never sent are counted
        there in the report's own fields."""

    @abstractmethod
    def send(self, items: list[T]) -> Sequence[SendResult]:
        """The sink's push: one result per item."""

    @abstractmethod
    def verify(self, items: list[T]) -> Sequence[SendResult]:
        """The sink's read-back of what it left pending."""

    def accepted(self, session: Session, due: Due[T]) -> None:
        """What the channel accepting ``due`` changes here (nothing by default)."""

    def run(
        self, store: Store, *, again: bool = False, on_batch: Callable[[int], None] | None = None
    ) -> R:
        """Verify what the channel is still processing, then send what is due."""
        with store.session() as session:
            waiting = self.load(session, (PushState.PENDING.value,), unsent=False)
        if waiting:
            results = self.verify([d.item for d in waiting])
            self._record(store, waiting, results, sent=False)
        states = (*_DUE, PushState.REFUSED.value) if again else _DUE
        with store.session() as session:
            due = self.load(session, states, unsent=True)
        size = self.batch_size
        for start in range(0, len(due), size):
            batch = due[start : start + size]
            with store.session() as session:
                for item in batch:
                    pushes.record(session, self.kind, item.row_id, self.name, PushState.SENT)
            try:
                results = self.send([d.item for d in batch])
            except ErpsyncError as exc:
                # the whole batch failed (network, auth): sent again next run, then the run fails
                line = " ".join(str(exc).split())
                failed = [
                    SendResult(ref=d.refs[0], ok=False, retry=True, error=line) for d in batch
                ]
                self._record(store, batch, failed)
                raise
            self._record(store, batch, results)
            if on_batch is not None:
                on_batch(len(batch))
        return self.report

    def _record(
        self,
        store: Store,
        batch: Sequence[Due[T]],
        results: Sequence[SendResult],
        *,
        sent: bool = True,
    ) -> None:
        """Move each row's record to the channel's answer; one the sink did not answer for
        stays "sent" (sent again next run)."""
        by_ref = {r.ref: r for r in results}
        report = self.report
        with store.session() as session:
            for item in batch:
                result = next((by_ref[r] for r in item.refs if r in by_ref), None)
                if result is None:
                    report.failed += 1
                    report.errors.append(f"{item.label}: no answer from the channel")
                    continue
                state = _state(result)
                if sent:
                    report.sent += 1
                setattr(report, state.value, getattr(report, state.value) + 1)
                if result.error and state is not PushState.ACCEPTED:
                    report.errors.append(f"{item.label}: {state.value}: {result.error}")
                pushes.record(
                    session,
                    self.kind,
                    item.row_id,
                    self.name,
                    state,
                    error=None if state is PushState.ACCEPTED else result.error,
                    remote_ref=result.remote_id,
                )
                if state is PushState.ACCEPTED:
                    self.accepted(session, item)


def _state(result: SendResult) -> PushState:
    if result.ok:
        return PushState.PENDING if result.pending else PushState.ACCEPTED
    if result.pending:
        return PushState.PENDING
    return PushState.FAILED if result.retry else PushState.REFUSED
