"""The erpsync command line: the root app, global options, and the one error boundary.

Command modules import only Typer at load time; the store, HTTP layer and connectors are
imported inside command bodies so that `erpsync --help` stays fast.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

try:  # Typer 0.2x vendors Click as typer._click; before that, Click itself raised these
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older Typer
    from click import exceptions as click_errors  # type: ignore[no-redef]

from erpsync.cli import (
    connectors,
    erp,
    invoices,
    labels,
    listings,
    orders,
    products,
    quarantine,
    shipments,
    status,
    stock,
    sync,
)
from erpsync.cli.output import Output
from erpsync.cli.state import State
from erpsync.errors import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    ConfigError,
    ErpsyncError,
)

app = typer.Typer(
    name="erpsync",
    help="Pull orders from every sales channel into one store, and push stock back out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: flags show no <bool>, values show their METAVAR
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("erpsync")
        except PackageNotFoundError:  # running from a source tree that was never installed
            found = "unknown"
        sys.stdout.write(f"erpsync {found}\n")
        raise typer.Exit()


class _LogFormat(logging.Formatter):
    """Warnings read like every other warning the CLI prints ("warning: ..."); -v detail lines
    say which module logged them."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"erpsync: error: {message}"
        if record.levelno >= logging.WARNING:
            return f"warning: {message}"
        return f"{record.levelname.lower()} {record.name}: {message}"


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-c",
            envvar="ERPSYNC_CONFIG",
            metavar="FILE",
            help="Config file (default: ./erpsync.yaml); before or after the command",
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar="ERPSYNC_DB", metavar="URL", help="Database URL (overrides the config)"
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each request")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit"
        ),
    ] = False,
) -> None:
    """Global options, shared by every command."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LogFormat())
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING,
        handlers=[handler],
        force=True,
    )
    # erpsync.http logs each request once (redacted, with its time); httpx would log it again
    for noisy in ("httpx", "httpcore", "alembic", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = State(config_path=config, db=db, output=Output(quiet=quiet, verbose=verbose))
    ctx.call_on_close(ctx.obj.close)
    # sandbox connectors share one emulator per name for this invocation only (every step of a
    # sync sees what the previous ones did; two invocations never share one)
    from erpsync.sandbox import sandbox_run

    ctx.with_resource(sandbox_run())


sync.register(app)
erp.register(app)
status.register(app)
app.add_typer(orders.app, name="orders")
app.add_typer(products.app, name="products")
app.add_typer(stock.app, name="stock")
app.add_typer(listings.app, name="listings")
app.add_typer(quarantine.app, name="quarantine")
app.add_typer(connectors.app, name="connectors")
app.add_typer(invoices.app, name="invoices")
app.add_typer(shipments.app, name="shipments")
app.add_typer(labels.app, name="labels")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: domain errors become one line on stderr and an exit code, never a traceback.

    Typer runs outside standalone mode, so usage errors, Ctrl-C (Click's Abort) and our own
    errors all propagate here and each becomes one line on stderr with its exit code; --help,
    --version and typer.Exit come back as a return code.
    """
    output = Output()
    if argv is None:  # the process is erpsync's own (console script, python -m erpsync)
        from erpsync.engine import heap

        heap.enable()
    try:
        args = hoist_global_options(sys.argv[1:] if argv is None else argv)
        code = app(args=args, prog_name="erpsync", standalone_mode=False)
        # not standalone: --help, --version and typer.Exit come back as a code, not SystemExit
        sys.exit(code if isinstance(code, int) else 0)
    except click_errors.UsageError as exc:
        # Click's own form is four lines (usage, hint, blank, error): cron mails want one
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        output.error(f"{exc.format_message()}{where}")
        sys.exit(exc.exit_code)
    except click_errors.ClickException as exc:
        output.error(exc.format_message())
        sys.exit(exc.exit_code)
    except typer.Abort:  # Ctrl-C at a prompt or while a command runs
        output.error("interrupted")
        _exit_now_if_threads(EXIT_INTERRUPTED)
        sys.exit(EXIT_INTERRUPTED)
    except SystemExit as exc:
        if exc.code == EXIT_INTERRUPTED:
            output.error("interrupted")
            _exit_now_if_threads(EXIT_INTERRUPTED)
        raise
    except ConfigError as exc:
        for problem in exc.problems:
            output.error(problem)
        sys.exit(EXIT_CONFIG)
    except ErpsyncError as exc:
        output.error(" ".join(str(exc).split()))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        output.error("interrupted")
        _exit_now_if_threads(EXIT_INTERRUPTED)
        sys.exit(EXIT_INTERRUPTED)
    except OSError as exc:
        output.error(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        sys.exit(EXIT_FAILURE)
    except Exception as exc:
        # a database error the store did not translate (raised outside a session): one line
        if not type(exc).__module__.startswith(("sqlalchemy", "sqlite3")):
            raise
        orig = getattr(exc, "orig", None) or exc
        output.error(f"database error: {' '.join(str(orig).split())[:300]}")
        sys.exit(EXIT_FAILURE)


_GLOBAL_WITH_VALUE = ("--config", "-c", "--db")
_GLOBAL_FLAGS = ("--verbose", "-v", "--quiet", "-q")


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options written after the command to the front, where Click wants them:
    ``erpsync pull-orders -c cfg.yaml -q`` is ``erpsync -c cfg.yaml -q pull-orders``.

    No command uses these names for its own options. Everything after ``--`` stays put.
    """
    head: list[str] = []
    index = 0
    while index < len(argv) and argv[index].startswith("-") and argv[index] != "--":
        arg = argv[index]
        head.append(arg)
        index += 1
        if arg in _GLOBAL_WITH_VALUE and index < len(argv):
            head.append(argv[index])
            index += 1
    moved: list[str] = []
    rest: list[str] = []
    tail = argv[index:]
    position = 0
    while position < len(tail):
        arg = tail[position]
        position += 1
        if arg == "--":
            rest.extend(tail[position - 1 :])
            break
        if arg in _GLOBAL_FLAGS or arg.startswith(("--config=", "--db=")):
            moved.append(arg)
        elif arg in _GLOBAL_WITH_VALUE and position < len(tail):
            moved.extend((arg, tail[position]))
            position += 1
        elif arg.startswith("-c") and len(arg) > 2 and not arg.startswith("--"):
            moved.append(arg)  # -cFILE
        else:
            rest.append(arg)
    return head + moved + rest


def _exit_now_if_threads(code: int) -> None:
    """Exit without waiting for connector threads still pulling (Ctrl-C on several).

    Their runs are already recorded as interrupted; what they committed is whole pages, and an
    open transaction is rolled back by SQLite, as after a kill.
    """
    import threading

    if threading.active_count() > 1 and any(
        t.name.startswith("erpsync") for t in threading.enumerate()
    ):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
