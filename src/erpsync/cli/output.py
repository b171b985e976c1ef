"""How the CLI prints: data to stdout (tables, or JSON with --json), messages to stderr.

Rich renders tables and colours only when it sees a terminal and NO_COLOR is unset, so cron
mails and CI logs get plain lines. Times are shown in the seller's time zone (config
``timezone``) to the second; ``--json`` keeps UTC ISO 8601.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table


def _console(stderr: bool) -> Console:
    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=True)


@dataclass
class Output:
    json_mode: bool = False
    quiet: bool = False
    verbose: bool = False
    out: Console = field(default_factory=lambda: _console(False))
    err: Console = field(default_factory=lambda: _console(True))
    #: the seller's time zone (IANA name), set once the config is loaded
    timezone: str = "America/Sao_Paulo"

    def when(self, value: datetime | str | None) -> str:
        """A time for a table: in the seller's time zone, to the second, paste-able back into
        --since ("2026-11-27 20:58:17-03:00"). Empty for None."""
        if value is None or value == "":
            return ""
        from zoneinfo import ZoneInfo

        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(ZoneInfo(self.timezone))
        return local.isoformat(sep=" ", timespec="seconds")

    @property
    def interactive(self) -> bool:
        return self.err.is_terminal and not self.quiet and not self.json_mode

    def info(self, message: str) -> None:
        if not self.quiet:
            self.err.print(message, markup=False)

    def warn(self, message: str) -> None:
        self.err.print(f"warning: {message}", markup=False)

    def error(self, message: str) -> None:
        self.err.print(f"erpsync: error: {message}", markup=False, style="red")

    def data(self, payload: Any) -> None:
        """Print machine-readable data (only in --json mode)."""
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()

    @contextmanager
    def progress(self, unit: str) -> Iterator[Callable[[str], Callable[[int], None]]]:
        """Yield ``track(name) -> advance(n)``: a live counter per connector on a terminal,
        nothing otherwise (cron gets the one-line summaries only)."""
        if not self.interactive:
            yield lambda name: lambda n: None
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn(f"{{task.completed}} {unit}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self.err, transient=True) as bar:

            def track(name: str) -> Callable[[int], None]:
                task = bar.add_task(name, total=None)
                return lambda n: bar.advance(task, n)

            yield track

    def table(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        rows = [["" if v is None else str(v) for v in row] for row in rows]
        if not self.out.is_terminal:
            # plain, tab-separated (real tabs: rich would expand them), never cut: greppable,
            # and stable for scripts that do not use --json
            lines = ["\t".join(columns)] + ["\t".join(row) for row in rows]
            sys.stdout.write("".join(line + "\n" for line in lines))
            sys.stdout.flush()
            return
        table = Table(title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        # never cut or fold a cell (ids must stay paste-able): render at the table's natural
        # width, and let a narrow terminal wrap the lines instead
        natural = self.out.measure(table).maximum
        self.out.print(table, width=max(self.out.width, natural), crop=False)
