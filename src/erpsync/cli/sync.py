"""pull-orders, push-stock and sync: the commands cron runs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from erpsync.cli.state import State, out, state

if TYPE_CHECKING:
    from erpsync.cli.output import Output
    from erpsync.config import Config
    from erpsync.engine.push import OnHandFactory
    from erpsync.engine.runner import Outcome

ConnectorOpt = Annotated[
    list[str] | None,
    typer.Option("--connector", "-C", metavar="NAME", help="Only this connector (repeatable)"),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON")]
ParallelOpt = Annotated[
    int | None,
    typer.Option(
        "--parallel",
        min=1,
        max=64,
        help="Connectors run at once (default: all, up to 8); with several workers on one "
        "PostgreSQL database, a small number lets every worker take some",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("pull-orders")(pull_orders)
    app.command("push-stock")(push_stock)
    app.command("sync")(sync)


def pull_orders(
    ctx: typer.Context,
    connector: ConnectorOpt = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Re-pull changes since this date (ISO 8601; a bare date is midnight in the "
            "config's timezone); the cursor never moves back",
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    parallel: ParallelOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Pull new and changed orders from every enabled connector into the store."""
    st, output = state(ctx), out(ctx, json_out)
    outcomes = _pull(
        st, output, connector, _parse_since(since, st.config().timezone), dry_run, parallel
    )
    _finish(output, outcomes, json_out)


def push_stock(
    ctx: typer.Context,
    connector: ConnectorOpt = None,
    dry_run: DryRunOpt = False,
    explain: Annotated[
        bool, typer.Option(help="Show the arithmetic per listing (needs --dry-run)")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Send every listing, changed or not")
    ] = False,
    parallel: ParallelOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Push each listing's available stock to its channel (only what changed, unless --full)."""
    if explain and not dry_run:
        from erpsync.errors import ConfigError

        raise ConfigError("--explain shows a plan: use it with --dry-run (nothing is sent)")
    st, output = state(ctx), out(ctx, json_out)
    outcomes = _push(st, output, connector, dry_run, explain, full, parallel)
    _finish(output, outcomes, json_out)


def sync(
    ctx: typer.Context,
    connector: ConnectorOpt = None,
    dry_run: DryRunOpt = False,
    recheck: Annotated[
        bool,
        typer.Option(
            "--recheck",
            help="In the invoices pull step, ask about every order awaiting an NF-e one by "
            "one, as `invoices pull --recheck` does; what it finds is pushed in the same run",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="In the pull-orders step, re-pull changes since this date, as `pull-orders "
            "--since` does",
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="In the push-stock step, send every listing, changed or not, as `push-stock "
            "--full` does",
        ),
    ] = False,
    parallel: ParallelOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The whole cycle: pull-orders, push-orders, invoices pull, invoices push, shipments
    push, pull-stock, push-stock; each step runs on the connectors that can do it, and is
    skipped when none is configured (no ERP: pull-orders, invoices push, shipments push,
    push-stock)."""
    from erpsync.cli import erp, invoices, shipments

    if recheck and dry_run:
        from erpsync.errors import ConfigError

        # refused before anything runs: a dry run skips the invoice steps, so the recheck
        # would silently do nothing
        raise ConfigError(
            "--recheck asks the ERPs for their NF-e, which a dry run skips: run `erpsync sync "
            "--recheck` without --dry-run"
        )
    st, output = state(ctx), out(ctx, json_out)
    moment = _parse_since(since, st.config().timezone)  # a bad date: refused before any step
    outcomes = _pull(st, output, connector, moment, dry_run, parallel)
    outcomes += erp.push_all(st, output, connector, dry_run)
    if not dry_run:  # invoices and tracking have no dry run: a pull stores, a push is a send
        outcomes += invoices.pull_all(st, output, connector, recheck=recheck)
        outcomes += invoices.push_all(st, output, connector)
        # after the NF-e: a channel may refuse tracking for an order not yet invoiced
        outcomes += shipments.push_all(st, output, connector, quiet=True)
    outcomes += erp.pull_all(st, output, connector, dry_run=dry_run)
    outcomes += _push(st, output, connector, dry_run, False, full, parallel)
    _finish(output, outcomes, json_out)


def _parse_since(value: str | None, timezone: str) -> datetime | None:
    """--since as a UTC time. A bare date is midnight in the seller's time zone, as is a time
    without an offset; a time in the future is refused (nothing changed there yet)."""
    if value is None:
        return None
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from erpsync.domain import utcnow
    from erpsync.errors import ConfigError

    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--since: {value!r} is not a date (use 2026-11-01, midnight in {timezone}, or "
            "2026-11-01T10:00:00-03:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    moment = moment.astimezone(UTC)
    if moment > utcnow():
        raise ConfigError(
            f"--since: {value!r} is in the future ({moment.isoformat()} UTC): --since re-pulls "
            "changes made after a past date; the regular run already reads up to now"
        )
    return moment


def _pull(
    st: State,
    output: Output,
    names: list[str] | None,
    since: datetime | None,
    dry_run: bool,
    parallel: int | None = None,
) -> list[Outcome]:
    from erpsync.connector import Capability
    from erpsync.engine.pull import pull_orders as pull_one
    from erpsync.engine.runner import build_context, run_all, select_connectors

    config = st.config()
    selected = select_connectors(config, names, Capability.PULL_ORDERS)
    with st.locked() as store, output.progress("orders") as track:
        outcomes = run_all(
            config,
            store,
            selected,
            "pull-orders",
            lambda c: pull_one(
                c,
                store,
                since=since,
                dry_run=dry_run,
                on_page=track(c.name),
                stock_effects=c.name != config.stock.source,
            ),
            record=not dry_run,
            context=build_context(config, store, dry_run=dry_run),
            parallel=parallel,
        )
    for outcome in output.completed(outcomes):
        r = outcome.report
        output.info(
            f"{outcome.connector}: {r.fetched} fetched, {r.new} new, {r.updated} updated, "
            f"{r.quarantined} quarantined"
            + (f", {len(r.rejected)} files rejected" if r.rejected else "")
            + (f", {len(r.unknown_skus)} unknown SKUs" if r.unknown_skus else "")
            + (" (dry run)" if dry_run else "")
        )
        if dry_run and not output.json_mode:
            for change in r.changes:
                output.info(f"  {change}")
    return outcomes


def _push(
    st: State,
    output: Output,
    names: list[str] | None,
    dry_run: bool,
    explain: bool,
    full: bool,
    parallel: int | None = None,
) -> list[Outcome]:
    from erpsync.connector import Capability
    from erpsync.engine.push import push_stock as push_one
    from erpsync.engine.runner import run_all, select_connectors

    config = st.config()
    selected = select_connectors(config, names, Capability.PUSH_STOCK)
    safety = config.stock.safety_stock
    on_hand = _on_hand(config)
    with st.locked() as store, output.progress("listings") as track:
        if on_hand is not None and selected:
            _require_erp_stock(store, str(config.stock.source))
        outcomes = run_all(
            config,
            store,
            selected,
            "push-stock",
            lambda c: push_one(
                c,
                store,
                safety_stock=safety,
                full=full,
                dry_run=dry_run,
                on_batch=track(c.name),
                on_hand=on_hand,
            ),
            record=not dry_run,
            parallel=parallel,
        )
    for outcome in output.completed(outcomes):
        r = outcome.report
        if dry_run:
            _print_plan(output, r, explain)
        else:
            output.info(
                f"{outcome.connector}: {r.sent} sent, {r.failed} failed, {r.unchanged} unchanged"
            )
            for error in r.errors:
                output.warn(f"{outcome.connector}: {error}")
        if r.listings_without_sku:
            output.warn(
                f"{outcome.connector}: {len(r.listings_without_sku)} listings without a known SKU: "
                + ", ".join(r.listings_without_sku[:10])
            )
        # SKUs without a listing here are usually sold on another channel: `status` lists the
        # products no channel lists, once, instead of every push warning about them
    return outcomes


def _on_hand(config: Config) -> OnHandFactory | None:
    """Where push-stock takes on-hand from: ``stock.source``'s ERP, else the ledger (None)."""
    source = config.stock.source
    if source is None:
        return None
    from erpsync.cli.erp import erp_names
    from erpsync.connector import Capability
    from erpsync.engine.availability import ErpOnHand

    erps = erp_names(config, Capability.PUSH_ORDERS)
    return lambda session: ErpOnHand(session, source, erps)


def _require_erp_stock(store: Any, source: str) -> None:
    """With stock.source, push-stock never runs on an ERP stock never read: every listing
    would go to 0."""
    from erpsync.engine.stock_pull import listed_skus
    from erpsync.errors import ConfigError
    from erpsync.store import erp as erp_store

    if not listed_skus(store):
        return  # nothing to push
    with store.session() as session:
        if not erp_store.levels(session, source, limit=1):
            raise ConfigError(
                f"stock.source is {source}, but its stock has never been read: run "
                f"`erpsync pull-stock -C {source}` first (sync does)"
            )


def _print_plan(output: Output, report: Any, explain: bool) -> None:
    if output.json_mode:
        return
    rows = [
        (report.connector, p.ref, p.sku, "-" if p.old is None else p.old, p.new)
        + ((p.explanation,) if explain else ())
        for p in report.plan
        if p.send or explain
    ]
    columns = ["connector", "listing", "sku", "old", "new"] + (["explain"] if explain else [])
    output.table(f"push plan ({report.connector})", columns, rows)


def _finish(output: Output, outcomes: list[Outcome], json_out: bool) -> None:
    """Exit 1 when a connector failed, else 3 when some records failed (see errors.py)."""
    from erpsync.errors import EXIT_FAILURE, EXIT_PARTIAL

    if json_out:
        output.data([_outcome_json(o) for o in outcomes])
    for outcome in outcomes:
        if not outcome.ok:
            output.error(f"{outcome.connector}: {outcome.error}")
        elif outcome.shortfall:
            output.error(f"{outcome.connector}: partial: {outcome.shortfall}")
    if any(not o.ok for o in outcomes):
        raise typer.Exit(EXIT_FAILURE)
    if any(o.shortfall for o in outcomes):
        raise typer.Exit(EXIT_PARTIAL)


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    data: dict[str, Any] = {
        "connector": outcome.connector,
        "ok": outcome.ok,
        "outcome": outcome.state,
        "error": outcome.error or outcome.shortfall,
        "counts": outcome.counts,
    }
    report = outcome.report
    if report is not None and hasattr(report, "plan"):
        data["plan"] = [
            {
                "listing": p.ref,
                "sku": p.sku,
                "old": p.old,
                "new": p.new,
                "send": p.send,
                "explain": p.explanation,
            }
            for p in report.plan
        ]
    if report is not None and hasattr(report, "changes"):
        data["changes"] = report.changes
    if report is not None and hasattr(report, "one_by_one"):  # invoices pull
        # counts carry asked / one_by_one / listed; the listing's window and the watermark left
        window = report.window
        data["window"] = (
            None
            if window is None or report.one_by_one == report.asked
            else {"start": window.start.isoformat(), "end": window.end.isoformat()}
        )
        data["cursor"] = None if report.cursor is None else report.cursor.isoformat()
    return data
