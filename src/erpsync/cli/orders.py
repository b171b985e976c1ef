"""orders list | show: the canonical orders in the store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from erpsync.cli.state import out, state

app = typer.Typer(help="Orders in the local store.", no_args_is_help=True, rich_markup_mode=None)

if TYPE_CHECKING:
    from sqlmodel import Session

    from erpsync.cli.output import Output
    from erpsync.store.tables import OrderRow

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the canonical fields as JSON")]


@app.command("list")
def list_orders(
    ctx: typer.Context,
    connector: Annotated[
        str | None, typer.Option("--connector", "-C", metavar="NAME", help="Only this connector")
    ] = None,
    status: Annotated[
        str | None, typer.Option(metavar="STATUS", help="pending, paid, invoiced, ...")
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            metavar="N", min=1, help="Show at most N orders (default 100; stderr says when cut)"
        ),
    ] = 100,
    json_out: JsonOpt = False,
) -> None:
    """List orders, most recently updated first."""
    from erpsync.domain import OrderStatus
    from erpsync.errors import ConfigError
    from erpsync.store import orders

    if status is not None and status not in OrderStatus.__members__.values():
        known = ", ".join(s.value for s in OrderStatus)
        raise ConfigError(f"--status: {status!r} is not an order status ({known})")
    st, output = state(ctx), out(ctx, json_out)
    if connector is not None:
        st.config().connector(connector)  # an unknown name is a usage error
    with st.reading() as session:
        rows = orders.list_orders(session, connector=connector, status=status, limit=limit)
        found = [orders.load_order(session, r.connector, r.external_id) for r in rows]
        total = (
            orders.count_orders(session, connector=connector, status=status)
            if len(rows) >= limit
            else len(rows)
        )
    loaded = [o for o in found if o is not None]
    if total > len(rows):
        output.info(f"showing {len(rows)} of {total} orders (--limit N shows more)")
    if json_out:
        output.data([o.public_dict() for o in loaded])
        return
    output.table(
        "orders",
        ["connector", "external_id", "number", "status", "updated", "total", "items", "full/fba"],
        [
            (
                o.connector,
                o.external_id,
                o.number,
                o.status.value,
                output.when(o.updated_at),
                o.total,
                sum(i.quantity for i in o.items),
                "yes" if o.fulfilled_by_channel else "",
            )
            for o in loaded
        ],
    )


@app.command("show")
def show_order(
    ctx: typer.Context,
    order_id: Annotated[
        str, typer.Argument(metavar="ID", help="CONNECTOR:EXTERNAL_ID, id or number")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Show one order with its items."""
    from erpsync.errors import ConfigError
    from erpsync.store import orders

    st, output = state(ctx), out(ctx, json_out)
    with st.reading() as session:
        rows = orders.find_orders(session, order_id)
        if not rows:
            raise ConfigError(f"no order {order_id!r} in the store")
        if len(rows) > 1:
            refs = ", ".join(f"{r.connector}:{r.external_id}" for r in rows)
            raise ConfigError(f"{order_id!r} matches several orders: {refs}")
        order = orders.load_order(session, rows[0].connector, rows[0].external_id)
        nfes, advice = _post_sale(session, rows[0])
    assert order is not None
    for line in advice:
        # stderr, in --json mode too: the channel cancelled an order whose NF-e stands
        output.warn(f"cancelled after its NF-e {line['access_key']}: {line['action']}")
    data = order.public_dict()
    if json_out:
        output.data(data)
        return
    items = data.pop("items")
    output.table("order", ["field", "value"], _order_fields(output, data))
    output.table(
        "items",
        ["sku", "channel_item_id", "variation_id", "title", "quantity", "unit_price"],
        [
            tuple(
                i[k]
                for k in (
                    "sku",
                    "channel_item_id",
                    "variation_id",
                    "title",
                    "quantity",
                    "unit_price",
                )
            )
            for i in items
        ],
    )
    if nfes:
        output.table("invoices", ["access_key", "number", "series", "issued_at", "total"], nfes)


def _order_fields(output: Output, data: dict[str, Any]) -> list[tuple[str, str]]:
    """One (field, text) row per canonical field, nested ones as ``buyer.name``: plain text
    a pipe can read, never a Python dict."""
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows.extend((f"{key}.{k}", "" if v is None else str(v)) for k, v in value.items())
        elif key in ("created_at", "updated_at"):
            rows.append((key, output.when(value)))
        elif key == "fulfilled_by_channel":
            rows.append(
                (
                    key,
                    "yes (Full/FBA: the channel ships it; our stock does not move)"
                    if value
                    else "no",
                )
            )
        else:
            rows.append((key, "" if value is None else str(value)))
    return rows


def _post_sale(
    session: Session, row: OrderRow
) -> tuple[list[tuple[str, str, str, str, str]], list[dict[str, str]]]:
    """The order's NF-e (key, number, series, issued, total), its cart's when the cart's NF-e
    covers it, and any cancellation advice."""
    from erpsync.domain import utcnow
    from erpsync.engine.invoices import cancelled_after_invoice, covering_invoices

    assert row.id is not None
    nfes = [
        (i.access_key, str(i.number), str(i.series), i.issued_at.isoformat(), str(i.total))
        for i in covering_invoices(session, row)
    ]
    return nfes, cancelled_after_invoice(session, utcnow(), order_id=row.id)
