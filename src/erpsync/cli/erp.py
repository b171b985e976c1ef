"""push-orders and pull-stock: the ERP side (orders into an ERP, its stock out of it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from erpsync.cli.state import State, out, state
from erpsync.cli.sync import ConnectorOpt, DryRunOpt, JsonOpt, _finish

if TYPE_CHECKING:
    from erpsync.cli.output import Output
    from erpsync.config import Config
    from erpsync.connector import Capability
    from erpsync.engine.runner import Outcome


def register(app: typer.Typer) -> None:
    app.command("push-orders")(push_orders)
    app.command("pull-stock")(pull_stock)


def push_orders(
    ctx: typer.Context,
    connector: ConnectorOpt = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Create every imported channel order in each ERP connector, exactly once; cancel there
    the orders cancelled on their channel since."""
    st, output = state(ctx), out(ctx, json_out)
    _finish(output, push_all(st, output, connector, dry_run), json_out)


def pull_stock(
    ctx: typer.Context,
    connector: ConnectorOpt = None,
    sku: Annotated[
        list[str] | None,
        typer.Option("--sku", metavar="SKU", help="Only this SKU (repeatable)"),
    ] = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Read each ERP connector's available stock of the SKUs that have listings (with
    stock.source set, push-stock sells from it)."""
    st, output = state(ctx), out(ctx, json_out)
    _finish(output, pull_all(st, output, connector, sku, dry_run), json_out)


def erp_names(config: Config, capability: Capability) -> list[str]:
    """The configured connectors (enabled or not) that have ``capability``."""
    from erpsync.registry import resolve

    return [
        name
        for name, settings in config.connectors.items()
        if capability in resolve(settings.type).capabilities
    ]


def push_all(
    st: State, output: Output, names: list[str] | None, dry_run: bool = False
) -> list[Outcome]:
    """push-orders over every selected ERP connector (also run by sync)."""
    from erpsync.connector import Capability
    from erpsync.engine.order_push import push_erp_orders
    from erpsync.engine.runner import build_context, run_all, select_connectors

    config = st.config()
    selected = select_connectors(config, names, Capability.PUSH_ORDERS)
    if not selected:
        return []
    exclude = erp_names(config, Capability.PUSH_ORDERS)
    with st.locked() as store, output.progress("orders") as track:
        outcomes = run_all(
            config,
            store,
            selected,
            "push-orders",
            lambda c: push_erp_orders(
                c, store, exclude=exclude, dry_run=dry_run, on_order=track(c.name)
            ),
            record=not dry_run,
            context=build_context(config, store, dry_run=dry_run),
        )
    for outcome in output.completed(outcomes):
        r = outcome.report
        output.info(
            f"{outcome.connector}: orders {r.created} created, {r.found} found after a lost "
            f"answer, {r.cancelled} cancelled, {r.skipped} skipped (cancelled before), "
            f"{r.waiting} waiting for payment, {r.refused} refused"
            + (f", {r.unresolved} unresolved" if r.unresolved else "")
            + (" (dry run)" if dry_run else "")
        )
        if dry_run and not output.json_mode:
            for change in r.changes:
                output.info(f"  {change}")
        for error in r.errors:
            output.warn(f"{outcome.connector}: {error}")
    return outcomes


def pull_all(
    st: State,
    output: Output,
    names: list[str] | None,
    skus: list[str] | None = None,
    dry_run: bool = False,
) -> list[Outcome]:
    """pull-stock over every selected ERP connector (also run by sync)."""
    from erpsync.connector import Capability
    from erpsync.engine.runner import build_context, run_all, select_connectors
    from erpsync.engine.stock_pull import pull_stock as pull_one

    config = st.config()
    selected = select_connectors(config, names, Capability.PULL_STOCK)
    if not selected:
        return []
    with st.locked() as store, output.progress("SKUs") as track:
        outcomes = run_all(
            config,
            store,
            selected,
            "pull-stock",
            lambda c: pull_one(c, store, skus=skus, dry_run=dry_run, on_batch=track(c.name)),
            record=not dry_run,
            context=build_context(config, store, dry_run=dry_run),
        )
    for outcome in output.completed(outcomes):
        r = outcome.report
        output.info(
            f"{outcome.connector}: stock of {r.read} of {r.asked} SKUs read"
            + (" (dry run)" if dry_run else "")
        )
        if skus or dry_run:
            output.table(
                f"ERP stock ({outcome.connector})",
                ["sku", "location", "available", "on_hand", "reserved"],
                [
                    (lv.sku, lv.location, lv.available, _dash(lv.on_hand), _dash(lv.reserved))
                    for lv in r.levels
                ],
            )
        if r.missing:
            output.warn(
                f"{outcome.connector}: not in the ERP: {', '.join(r.missing[:10])}"
                + (f" and {len(r.missing) - 10} more" if len(r.missing) > 10 else "")
            )
    return outcomes


def _dash(value: int | None) -> str | int:
    return "-" if value is None else value
