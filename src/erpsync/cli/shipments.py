"""shipments set | import | push | list | show: tracking of what the seller ships."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from erpsync.cli.pushes import add_push_command, push_records
from erpsync.cli.state import State, out, state

if TYPE_CHECKING:
    from erpsync.cli.output import Output
    from erpsync.engine.runner import Outcome
    from erpsync.store.tables import OrderRow, ShipmentRow, TrackingPush

app = typer.Typer(
    help="Shipments and tracking: record what the seller ships, send it to the channels.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

OrderArg = Annotated[
    str, typer.Argument(metavar="ORDER", help="CONNECTOR:EXTERNAL_ID, id or number")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON")]
#: the columns of `shipments import`
COLUMNS = ("order", "tracking_code", "carrier", "tracking_url", "shipment")


@app.command("set")
def set_tracking(
    ctx: typer.Context,
    order_id: OrderArg,
    tracking: Annotated[
        str, typer.Option("--tracking", metavar="CODE", help="The carrier's tracking code")
    ],
    carrier: Annotated[
        str | None, typer.Option(metavar="NAME", help="Carrier (Correios, Jadlog, ...)")
    ] = None,
    url: Annotated[str | None, typer.Option(metavar="URL", help="Tracking page URL")] = None,
    shipment: Annotated[
        str | None,
        typer.Option(metavar="REF", help="The channel's shipment/delivery id (several)"),
    ] = None,
) -> None:
    """Record the tracking of an order the seller shipped; `shipments push` sends it."""
    from erpsync.cli.invoices import _one_order
    from erpsync.engine.tracking import record_tracking

    st, output = state(ctx), out(ctx)
    with st.locked() as store, store.session() as session:
        order = _one_order(session, order_id)
        recorded = record_tracking(
            session, order, tracking, carrier=carrier, tracking_url=url, shipment_ref=shipment
        )
        connector = order.connector
    if not recorded.changed:
        output.info(f"{recorded.order}: tracking {recorded.tracking_code} was already recorded")
        return
    output.info(
        f"{recorded.order}: tracking {recorded.tracking_code} recorded on shipment "
        f"{recorded.shipment_ref}; {_next_step(st, connector)}"
    )


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.csv", help="columns: order,tracking_code[,carrier,tracking_url,shipment]"
        ),
    ],
) -> None:
    """Record tracking from a CSV (one row per shipment); all rows or none: a row that names
    no order, or that its order refuses, is reported with its line and nothing is stored."""
    from erpsync.cli.invoices import _one_order
    from erpsync.engine.tracking import record_tracking
    from erpsync.errors import ConfigError
    from erpsync.store.csvfile import read_rows

    st, output = state(ctx), out(ctx)
    if not file.is_file():
        raise ConfigError(f"{file}: no such file")
    try:
        sheet = read_rows(file, required={"order", "tracking_code"}, allowed=COLUMNS)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    recorded = unchanged = 0
    with st.locked() as store, store.session() as session:
        for line, row in sheet:
            try:
                order = _one_order(session, row["order"])
                result = record_tracking(
                    session,
                    order,
                    row["tracking_code"],
                    carrier=row.get("carrier"),
                    tracking_url=row.get("tracking_url"),
                    shipment_ref=row.get("shipment") or None,
                )
            except ConfigError as exc:
                # the session rolls back: all rows or none
                raise ConfigError(f"{file}: line {line}: {exc}") from None
            if result.changed:
                recorded += 1
            else:
                unchanged += 1
    output.info(
        f"{file}: {recorded} tracking code(s) recorded, {unchanged} unchanged; "
        "`erpsync shipments push` sends them"
    )


def push_all(
    st: State, output: Output, names: list[str] | None, *, again: bool = False, quiet: bool = False
) -> list[Outcome]:
    """shipments push over every selected connector that takes tracking (also run by sync,
    ``quiet``: without a word when none does)."""
    from erpsync.connector import Capability
    from erpsync.engine.tracking_push import push_tracking

    return push_records(
        st,
        output,
        names,
        capability=Capability.PUSH_TRACKING,
        command="shipments-push",
        unit="shipments",
        push=push_tracking,
        again=again,
        none_selected=None if quiet else "no selected connector takes tracking",
    )


add_push_command(
    app,
    push_all,
    doc="Send each shipment's tracking to its channel (once; failures are retried next run).",
    again_help="Also resend tracking the channel refused",
)


@app.command("list")
def list_shipments(
    ctx: typer.Context,
    pending: Annotated[
        bool, typer.Option("--pending", help="Only tracking its channel has not accepted")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """List shipments with a tracking code, most recent first, with their push state."""
    from erpsync.store import shipments

    st, output = state(ctx), out(ctx, json_out)
    with st.store().session(readonly=True) as session:
        pairs = shipments.with_tracking(session)
        pushes = shipments.tracking_pushes_of(session, [s.id for s, _ in pairs if s.id])
    entries = []
    for shipment, order in pairs:
        assert shipment.id is not None
        pushed = pushes.get(shipment.id, {})
        if pending and _settled(order, pushed):
            continue
        entries.append(_entry(shipment, order, pushed))
    if json_out:
        output.data(entries)
        return
    output.table(
        "shipments",
        ["order", "shipment", "carrier", "tracking_code", "shipped_at", "pushed"],
        [
            (
                e["order"],
                e["shipment"],
                e["carrier"] or "-",
                e["tracking_code"],
                output.when(e["shipped_at"]) if e["shipped_at"] else "-",
                ", ".join(f"{c}={s}" for c, s in e["pushed"].items()) or "-",
            )
            for e in entries
        ],
    )


@app.command("show")
def show(ctx: typer.Context, order_id: OrderArg, json_out: JsonOpt = False) -> None:
    """Show an order's shipments: logistic type, status, tracking, label, push state."""
    from erpsync.cli.invoices import _one_order
    from erpsync.errors import ConfigError
    from erpsync.store import shipments

    st, output = state(ctx), out(ctx, json_out)
    with st.store().session(readonly=True) as session:
        order = _one_order(session, order_id)
        assert order.id is not None
        rows = shipments.shipments_of(session, order.id)
        pushes = shipments.tracking_pushes_of(session, [r.id for r in rows if r.id])
    if not rows:
        raise ConfigError(
            f"{order.connector}:{order.external_id} has no shipment "
            "(`erpsync shipments set` records one)"
        )
    details = []
    for row in rows:
        assert row.id is not None
        pushed = pushes.get(row.id, {})
        entry = _entry(row, order, pushed) | {
            "logistic_type": row.logistic_type,
            "fulfilled_by_channel": row.fulfilled_by_channel,
            "status": row.status,
            "substatus": row.substatus,
            "tracking_url": row.tracking_url,
            "label_state": row.label_state,
            "label_file": row.label_file,
            "errors": {c: p.error for c, p in pushed.items() if p.error},
        }
        details.append(entry)
    if json_out:
        output.data(details)
        return
    for entry in details:
        output.table(
            f"shipment {entry['shipment']}",
            ["field", "value"],
            [(k, v) for k, v in entry.items()],
        )


def _settled(order: OrderRow, pushed: dict[str, TrackingPush]) -> bool:
    push = pushed.get(order.connector)
    return push is not None and push.state == "accepted"


def _entry(
    shipment: ShipmentRow, order: OrderRow, pushed: dict[str, TrackingPush]
) -> dict[str, Any]:
    return {
        "order": f"{order.connector}:{order.external_id}",
        "shipment": shipment.shipment_ref,
        "carrier": shipment.carrier,
        "tracking_code": shipment.tracking_code,
        "shipped_at": shipment.shipped_at.isoformat() if shipment.shipped_at else None,
        "pushed": {c: p.state for c, p in pushed.items()},
    }


def _next_step(st: State, connector: str) -> str:
    """What happens to the tracking now: pushed by `shipments push`, or kept here only."""
    from erpsync.connector import Capability

    cls = st.config().connector_classes.get(connector)
    if cls is not None and Capability.PUSH_TRACKING in cls.capabilities:
        return f"`erpsync shipments push` sends it to {connector}"
    return f"{connector} takes no tracking from erpsync: it is kept here only"
