"""The counts every per-record push (invoices, tracking) reports, and when its run is partial."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class RecordPushReport:
    """One connector's push of records to its channel: how each ended, and the errors seen."""

    #: what the records are called in the partial-run line ("invoice(s)", "tracking push(es)")
    noun: ClassVar[str]
    #: what the records are called in the summary line ("invoices", "tracking")
    label: ClassVar[str]

    connector: str
    sent: int = 0
    accepted: int = 0
    pending: int = 0
    refused: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "accepted": self.accepted,
            "pending": self.pending,
            "refused": self.refused,
            "failed": self.failed,
        }

    def summary(self) -> str:
        """The counts as the push commands print them after the connector's name."""
        return (
            f"{self.label} {self.sent} sent, {self.accepted} accepted, {self.pending} pending, "
            f"{self.refused} refused, {self.failed} failed"
        )

    def shortfall(self) -> str | None:
        """Records this run could not place, or None: makes the run partial."""
        if not (self.refused or self.failed):
            return None
        return f"{self.refused} {self.noun} refused, {self.failed} failed"
