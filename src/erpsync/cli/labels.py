"""labels fetch: the channels' shipping labels, one file per order."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from erpsync.cli.state import out, state

app = typer.Typer(
    help="Shipping labels the channels issue (Mercado Livre ME2, ...).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("fetch")
def fetch(
    ctx: typer.Context,
    order_refs: Annotated[
        list[str] | None,
        typer.Argument(metavar="[ORDER]...", help="Only these orders (CONNECTOR:EXTERNAL_ID, ...)"),
    ] = None,
    connector: Annotated[
        list[str] | None,
        typer.Option("--connector", "-C", help="Only this connector (repeatable)"),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", metavar="pdf|zpl", help="Label format (zpl: ZPL II text)")
    ] = "pdf",
    out_dir: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Folder for the label files")
    ] = Path("."),
    again: Annotated[
        bool, typer.Option("--again", help="Fetch labels already fetched once more")
    ] = False,
) -> None:
    """Fetch each order's shipping label from its channel (once; --again for a reprint).

    Orders that cannot have a label yet are listed with the reason (the NF-e is missing, the
    shipment is not ready); they are asked again next time."""
    from erpsync.cli.invoices import _one_order
    from erpsync.cli.sync import _finish as finish
    from erpsync.connector import Capability
    from erpsync.engine.labels import fetch_labels
    from erpsync.engine.runner import run_all, select_connectors
    from erpsync.errors import ConfigError
    from erpsync.registry import resolve

    st, output = state(ctx), out(ctx)
    if format not in ("pdf", "zpl"):
        raise ConfigError(f"--format: {format!r} is not pdf or zpl")
    if not out_dir.is_dir():
        raise ConfigError(f"--out: {out_dir} is not a folder")
    config = st.config()
    names = select_connectors(config, connector)
    wanted: dict[str, list[int]] | None = None
    if order_refs:
        wanted = {}
        with st.store().session(readonly=True) as session:
            for ref in order_refs:
                row = _one_order(session, ref)
                assert row.id is not None
                wanted.setdefault(row.connector, []).append(row.id)
        names = [n for n in names if n in wanted]
        missing = sorted(set(wanted) - set(names))
        if missing:
            raise ConfigError(f"no enabled connector {', '.join(missing)} for the orders named")
    selected = [
        n
        for n in names
        if Capability.PULL_LABELS in resolve(config.connectors[n].type).capabilities
    ]
    if not selected:
        raise ConfigError("no selected connector issues labels")
    with st.locked() as store, output.progress("labels") as track:
        outcomes = run_all(
            config,
            store,
            selected,
            "labels-fetch",
            lambda c: fetch_labels(
                c,
                store,
                out_dir,
                format=format,
                order_ids=None if wanted is None else wanted.get(c.name, []),
                again=again,
                on_batch=track(c.name),
            ),
        )
    for outcome in output.completed(outcomes):
        report = outcome.report
        for order, path in report.written:
            output.info(f"{order}: {path}")
        for order, reason in report.waiting:
            output.warn(f"{order}: no label yet: {reason}")
        for order, reason in report.never:
            output.info(f"{order}: no label from the channel: {reason}")
        output.info(
            f"{outcome.connector}: {len(report.written)} label(s) written, "
            f"{len(report.waiting)} not ready, {len(report.never)} without a channel label"
        )
    finish(output, outcomes, False)
