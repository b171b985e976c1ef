"""How the CLI prints: data to stdout (tables, or JSON with --json), messages to stderr.

Rich renders tables and colours only when it sees a terminal and NO_COLOR is unset, so cron
mails and CI logs get plain lines. Rich itself is imported only for a stream that may be a
terminal: a cron or CI run writes its lines with ``PlainConsole`` and never loads it (46
modules, 2-3 MiB of a pull's peak RSS; README, Memory and start-up). Times are shown in the
seller's time zone (config ``timezone``) to the second; ``--json`` keeps UTC ISO 8601.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from erpsync.engine.runner import Outcome

#: ``advance(n, total=None)``: n more units done; ``total`` when it becomes known
Advance = Callable[..., None]


def _ignore(n: int, total: int | None = None) -> None:
    return None


def _progress_seconds(text: str) -> float:
    try:
        return max(float(text), 0.0)
    except ValueError:
        return 10.0


class PlainConsole:
    """What the CLI asks of a Rich ``Console``, for a stream that is not a terminal: each
    message as one plain line, flushed (as Rich does), so stdout and stderr interleave in a
    cron mail as they were written.

    The stream is looked up at each write (as Rich does for ``file=None``): a test's captured
    ``sys.stderr`` receives what is printed after it was swapped in.
    """

    is_terminal = False

    def __init__(self, stderr: bool) -> None:
        self.stderr = stderr

    @property
    def file(self) -> IO[str]:
        return sys.stderr if self.stderr else sys.stdout

    def print(self, message: str, *, markup: bool = False, style: str | None = None) -> None:
        """``message`` and a newline; ``markup`` and ``style`` are Rich's, without effect on a
        plain stream (Rich would not colour it either)."""
        stream = self.file
        stream.write(f"{message}\n")
        stream.flush()


def _may_be_terminal(stream: IO[str]) -> bool:
    """Whether Rich could take ``stream`` for a terminal: its own rules (rich.console's
    ``Console.is_terminal``: TTY_COMPATIBLE, FORCE_COLOR, then ``isatty``). Rich decides when
    this says yes (it also rules out Jupyter and IDLE); when it says no, so would Rich."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force_color = os.environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color != ""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _console(stderr: bool) -> Console | PlainConsole:
    if not _may_be_terminal(sys.stderr if stderr else sys.stdout):
        return PlainConsole(stderr)
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=True)


@dataclass
class Output:
    json_mode: bool = False
    quiet: bool = False
    verbose: bool = False
    out: Console | PlainConsole = field(default_factory=lambda: _console(False))
    err: Console | PlainConsole = field(default_factory=lambda: _console(True))
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

    def completed(self, outcomes: Iterable[Outcome]) -> Iterator[Outcome]:
        """The connectors' runs that ended ok, in order, for their summary lines; a connector
        another worker holds is said skipped as it is passed, a failed one is left to the
        exit code's report (``cli.sync._finish``)."""
        for outcome in outcomes:
            if outcome.skipped:
                self.info(f"{outcome.connector}: skipped: {outcome.skipped}")
            elif outcome.ok:
                yield outcome

    def error(self, message: str) -> None:
        self.err.print(f"erpsync: error: {message}", markup=False, style="red")

    def data(self, payload: Any) -> None:
        """Print machine-readable data (only in --json mode)."""
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()

    @contextmanager
    def progress(self, unit: str) -> Iterator[Callable[[str], Advance]]:
        """Yield ``track(name) -> advance(n, total=None)``; the engine calls ``advance`` from
        its callbacks (any thread) and never prints.

        On a terminal: a live line per task, with a bar, done/total and an ETA once a total is
        known (an import, a platform that says how many). Elsewhere (cron, CI): a plain line
        per task at most every ``ERPSYNC_PROGRESS_SECONDS`` (default 10), so only long runs
        print any. Nothing with --quiet.
        """
        if self.quiet:
            yield lambda name: _ignore
            return
        if not self.interactive:
            with self._ticker(unit) as track:
                yield track
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(unit),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
        )
        assert isinstance(self.err, Console)  # interactive: only Rich says a stream is a terminal
        with Progress(*columns, console=self.err, transient=True) as bar:

            def track(name: str) -> Advance:
                task = bar.add_task(name, total=None)

                def advance(n: int, total: int | None = None) -> None:
                    if total is not None:
                        bar.update(task, total=total)
                    bar.advance(task, n)

                return advance

            yield track

    @contextmanager
    def _ticker(self, unit: str) -> Iterator[Callable[[str], Advance]]:
        import threading
        import time

        interval = _progress_seconds(os.environ.get("ERPSYNC_PROGRESS_SECONDS", "10"))
        lock = threading.Lock()
        started = time.monotonic()

        def track(name: str) -> Advance:
            done, known, last = 0, None, started

            def advance(n: int, total: int | None = None) -> None:
                nonlocal done, known, last
                with lock:
                    done += n
                    known = total if total is not None else known
                    now = time.monotonic()
                    if now - last < interval:
                        return
                    last = now
                    of = f" of {known}" if known else ""
                    eta = ""
                    if known and done:
                        left = (now - started) * (known - done) / done
                        eta = f", about {left:.0f} s left"
                    self.err.print(
                        f"{name}: {done}{of} {unit} ({now - started:.0f} s{eta})", markup=False
                    )

            return advance

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
        from rich.console import Console
        from rich.table import Table

        console = self.out
        assert isinstance(console, Console)  # only Rich says a stream is a terminal
        table = Table(title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        # never cut or fold a cell (ids must stay paste-able): render at the table's natural
        # width, and let a narrow terminal wrap the lines instead. Rich caps both a measure
        # and print(width=...) at the console's width, so measure with unlimited room and
        # widen the console itself for this print
        unlimited = console.options.update(max_width=sys.maxsize)
        natural = console.measure(table, options=unlimited).maximum
        narrow = console.width
        console.width = max(narrow, natural)
        try:
            console.print(table, crop=False)
        finally:
            console.width = narrow
