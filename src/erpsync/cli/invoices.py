"""invoices attach | import | pull | push | list | show | danfe: the orders' NF-e XMLs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from erpsync.cli.pushes import add_push_command, push_records
from erpsync.cli.state import State, out, state

if TYPE_CHECKING:
    from sqlmodel import Session

    from erpsync.cli.output import Output
    from erpsync.engine.runner import Outcome
    from erpsync.store.tables import InvoiceRow, OrderRow

app = typer.Typer(
    help="NF-e invoices of the orders: attach, import, list, DANFE.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

OrderArg = Annotated[
    str, typer.Argument(metavar="ORDER", help="CONNECTOR:EXTERNAL_ID, id or number")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON")]


@app.command("attach")
def attach(
    ctx: typer.Context,
    order_id: OrderArg,
    file: Annotated[Path, typer.Argument(metavar="FILE.xml", help="nfeProc XML (or a bare NFe)")],
    protocol: Annotated[
        str | None,
        typer.Option(metavar="NUMBER", help="Authorisation protocol number, for a bare NFe"),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(help="Attach even if vNF or the recipient differ from the order (recorded)"),
    ] = False,
) -> None:
    """Attach an authorised NF-e to an order; the order becomes invoiced."""
    from erpsync.postsale.nfe import parse_nfe

    st, output = state(ctx), out(ctx)
    # the file's own checks first: a refused file costs no database
    parsed = parse_nfe(_read(file), protocol=protocol)
    from erpsync.engine import invoices as engine

    with st.locked() as store, store.session() as session:
        order = _one_order(session, order_id)
        result = engine.attach(
            session,
            order,
            parsed,
            models=_models_for(st)(order),
            force=force,
            file_name=file.name,
        )
    for warning in result.warnings:
        output.warn(warning)
    if result.already:
        output.info(f"{result.order}: NF-e {result.access_key} was already attached")
        return
    output.info(f"{result.order}: NF-e {result.access_key} attached; order is {result.status}")


@app.command("import")
def import_dir(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Folder of NF-e XMLs")],
) -> None:
    """Attach every NF-e XML in DIR to its order (by order or cart number, or buyer + total +
    date).

    Files that match no order, or are refused, are listed and left where they are; the exit
    code is then 1."""
    from erpsync.engine import invoices as engine
    from erpsync.errors import ConfigError

    st, output = state(ctx), out(ctx)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder")
    files = engine.xml_files(folder)
    report = engine.ImportReport()
    models_for = _models_for(st)
    with st.locked() as store:
        for path in files:
            with store.session() as session:
                engine.import_file(session, path, models_for, report)
    for name, result in report.attached:
        output.info(f"{name}: attached to {result.order} (order is {result.status})")
        for warning in result.warnings:
            output.warn(f"{name}: {warning}")
    for name, result in report.already:
        output.info(f"{name}: already attached to {result.order}")
    for name, reason in report.left:
        output.warn(f"{name}: not attached: {reason}")
    output.info(
        f"{len(files)} file(s): {len(report.attached)} attached, {len(report.already)} already "
        f"attached, {len(report.left)} left in {folder}"
    )
    if report.left:  # some files were not attached: partial (README: exit codes)
        from erpsync.errors import EXIT_PARTIAL

        raise typer.Exit(EXIT_PARTIAL)


def push_all(
    st: State, output: Output, names: list[str] | None, *, again: bool = False
) -> list[Outcome]:
    """invoices push over every selected connector that takes invoices (also run by sync)."""
    from erpsync.connector import Capability
    from erpsync.engine.invoice_push import push_invoices

    return push_records(
        st,
        output,
        names,
        capability=Capability.PUSH_INVOICES,
        command="invoices-push",
        unit="invoices",
        push=push_invoices,
        again=again,
    )


add_push_command(
    app,
    push_all,
    doc="Send each order's invoices to its channel (once; failures are retried next run).",
    again_help="Also resend invoices the channel refused",
)


@app.command("pull")
def pull(
    ctx: typer.Context,
    connector: Annotated[
        list[str] | None,
        typer.Option("--connector", "-C", metavar="ERP", help="Only this ERP (repeatable)"),
    ] = None,
    recheck: Annotated[
        bool,
        typer.Option(
            "--recheck",
            help="Ask about every order awaiting an NF-e one by one, as on the first run, "
            "whatever the ERP listed since its watermark",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Read the NF-e each ERP issued for the orders erpsync created in it and store them as
    the channel orders' invoices (`invoices push` then sends them on)."""
    from erpsync.cli.sync import _finish

    st, output = state(ctx), out(ctx, json_out)
    _finish(output, pull_all(st, output, connector, recheck=recheck), json_out)


def pull_all(
    st: State, output: Output, names: list[str] | None, *, recheck: bool = False
) -> list[Outcome]:
    """invoices pull over every selected ERP connector (also run by sync)."""
    from erpsync.connector import Capability
    from erpsync.engine.invoice_pull import pull_invoices
    from erpsync.engine.invoices import models_for_config
    from erpsync.engine.runner import run_all, select_connectors

    config = st.config()
    selected = select_connectors(config, names, Capability.PULL_INVOICES)
    if not selected:
        return []
    models_for = models_for_config(config)
    with st.locked() as store, output.progress("orders") as track:
        outcomes = run_all(
            config,
            store,
            selected,
            "invoices-pull",
            lambda c: pull_invoices(
                c, store, models_for=models_for, recheck=recheck, on_batch=track(c.name)
            ),
        )
    for outcome in output.completed(outcomes):
        r = outcome.report
        output.info(f"{outcome.connector}: {r.summary(output.when)}")
        for warning in r.warnings:
            output.warn(f"{outcome.connector}: {warning}")
        for error in r.errors:
            output.warn(f"{outcome.connector}: {error}")
    return outcomes


@app.command("list")
def list_invoices(
    ctx: typer.Context,
    pending: Annotated[
        bool, typer.Option("--pending", help="Only invoices some channel has not accepted")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """List invoices, newest first, with their push state per channel."""
    from erpsync.store import invoices

    st, output = state(ctx), out(ctx, json_out)
    with st.store().session(readonly=True) as session:
        pairs = invoices.list_invoices(session)
        pushes = invoices.pushes_of(session, [i.id for i, _ in pairs if i.id is not None])
    entries = []
    for invoice, order in pairs:
        assert invoice.id is not None
        pushed = {c: p.state for c, p in pushes.get(invoice.id, {}).items()}
        if pending and _settled(order, pushed):
            continue
        entries.append(_entry(invoice, order, pushed))
    if json_out:
        output.data(entries)
        return
    output.table(
        "invoices",
        ["order", "number", "series", "access_key", "issued_at", "total", "pushed"],
        [
            (
                e["order"],
                e["number"],
                e["series"],
                e["access_key"],
                e["issued_at"],
                e["total"],
                ", ".join(f"{c}={s}" for c, s in e["pushed"].items()) or "-",
            )
            for e in entries
        ],
    )


def _settled(order: OrderRow, pushed: dict[str, str]) -> bool:
    """Nothing left to do: the order's own channel accepted it."""
    return pushed.get(order.connector) == "accepted"


def _entry(invoice: InvoiceRow, order: OrderRow, pushed: dict[str, str]) -> dict[str, Any]:
    return {
        "order": f"{order.connector}:{order.external_id}",
        "number": invoice.number,
        "series": invoice.series,
        "model": invoice.model,
        "access_key": invoice.access_key,
        "issued_at": invoice.issued_at.isoformat(),
        "total": str(invoice.total),
        "pushed": pushed,
    }


@app.command("show")
def show(
    ctx: typer.Context,
    order_id: OrderArg,
    xml: Annotated[bool, typer.Option("--xml", help="Print the stored XML itself")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Show an order's invoices (or print the XML with --xml)."""
    import sys

    from erpsync.store import invoices

    st, output = state(ctx), out(ctx, json_out)
    with st.store().session(readonly=True) as session:
        order = _one_order(session, order_id)
        rows = _invoices_or_fail(session, order)
        pushes = invoices.pushes_of(session, [r.id for r in rows if r.id is not None])
        documents = [invoices.xml_of(r) for r in rows] if xml else []
    if xml:
        for document in documents:
            sys.stdout.buffer.write(document.rstrip() + b"\n")
        sys.stdout.flush()
        return
    details = []
    for row in rows:
        assert row.id is not None
        entry = _entry(row, order, {c: p.state for c, p in pushes.get(row.id, {}).items()})
        entry |= {
            "authorised_at": row.authorised_at.isoformat() if row.authorised_at else None,
            "protocol": row.protocol,
            "status_code": row.status_code,
            "products_total": str(row.products_total),
            "freight": str(row.freight),
            "discount": str(row.discount),
            "environment": "production" if row.environment == 1 else "homologation",
            "source": row.source,
            "forced": row.forced_checks,
            "errors": {c: p.error for c, p in pushes.get(row.id, {}).items() if p.error},
        }
        details.append(entry)
    if json_out:
        output.data(details)
        return
    for entry in details:
        output.table(
            f"NF-e {entry['number']}/{entry['series']}",
            ["field", "value"],
            [(k, v) for k, v in entry.items()],
        )


@app.command("danfe")
def danfe(
    ctx: typer.Context,
    order_id: OrderArg,
    out_dir: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Folder for the PDFs")
    ] = Path("."),
) -> None:
    """Write the DANFE PDF of each of the order's NF-e (one file per NF-e, by its key)."""
    from erpsync.postsale.danfe import render_danfe, write_atomically
    from erpsync.store import invoices

    st, output = state(ctx), out(ctx)
    with st.store().session(readonly=True) as session:
        order = _one_order(session, order_id)
        documents = [(r.access_key, invoices.xml_of(r)) for r in _invoices_or_fail(session, order)]
    for key, document in documents:
        path = out_dir / f"DANFE-{key}.pdf"
        write_atomically(path, render_danfe(document))
        output.info(f"{path}")


def _read(file: Path) -> bytes:
    from erpsync.errors import ConfigError

    if not file.is_file():
        raise ConfigError(f"{file}: no such file")
    return file.read_bytes()


def _one_order(session: Session, ref: str) -> OrderRow:
    from erpsync.errors import ConfigError
    from erpsync.store import orders

    rows = orders.find_orders(session, ref)
    if not rows:
        raise ConfigError(f"no order {ref!r} in the store")
    if len(rows) > 1:
        refs = ", ".join(f"{r.connector}:{r.external_id}" for r in rows)
        raise ConfigError(f"{ref!r} matches several orders: {refs}")
    return rows[0]


def _invoices_or_fail(session: Session, order: OrderRow) -> list[InvoiceRow]:
    from erpsync.engine.invoices import covering_invoices
    from erpsync.errors import ConfigError

    rows = covering_invoices(session, order)  # a cart's NF-e shows under each of its orders
    if not rows:
        raise ConfigError(f"{order.connector}:{order.external_id} has no invoice")
    return rows


def _models_for(st: State) -> Any:
    """OrderRow -> the NF-e models its channel takes (from the connector's type)."""
    from erpsync.engine.invoices import models_for_config

    return models_for_config(st.config())
