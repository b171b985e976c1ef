"""stock list | set | import: on-hand quantities per SKU and location (depósito)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from erpsync.cli.state import out, state
from erpsync.store.csvfile import MAX_QUANTITY

app = typer.Typer(help="Stock levels per SKU and location.", no_args_is_help=True)
LocationOpt = Annotated[
    str | None,
    typer.Option(
        "--location", "-l", help="Location (default: the config's stock.default_location)"
    ),
]


@app.command("list")
def list_stock(
    ctx: typer.Context,
    location: Annotated[list[str] | None, typer.Option("--location", "-l")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """On hand, reserved and available (before safety stock) per SKU."""
    from erpsync.store import ledger, products

    st, output = state(ctx), out(ctx, json_out)
    config = st.config()
    locations = location or [config.stock.default_location]
    with st.reading() as session:
        skus = [p.sku for p in products.list_products(session)]
        levels = ledger.levels(session, locations, skus)
    data = [
        {
            "sku": sku,
            "on_hand": lv.on_hand,
            "reserved": lv.reserved,
            "available": max(lv.on_hand - lv.reserved - config.stock.safety_stock, 0),
        }
        for sku in skus
        for lv in [levels.get(sku, ledger.StockLevel(on_hand=0, reserved=0))]
    ]
    if json_out:
        output.data(data)
        return
    output.table(
        f"stock ({', '.join(locations)})",
        ["sku", "on_hand", "reserved", "available"],
        [(d["sku"], d["on_hand"], d["reserved"], d["available"]) for d in data],
    )


@app.command("set")
def set_stock(
    ctx: typer.Context,
    sku: str,
    quantity: Annotated[int, typer.Argument(metavar="QTY", min=0, max=MAX_QUANTITY)],
    location: LocationOpt = None,
) -> None:
    """Set the on-hand quantity of a SKU (writes an adjusting movement to the ledger)."""
    from erpsync.errors import ConfigError
    from erpsync.store import ledger, products

    st, output = state(ctx), out(ctx)
    loc = location or st.config().stock.default_location
    with st.locked() as store, store.session() as session:
        if products.get_product(session, sku) is None:
            raise ConfigError(f"unknown SKU {sku!r} (add it with `erpsync products import`)")
        delta = ledger.set_on_hand(session, sku, loc, quantity, reason="adjust")
    output.info(f"{sku} @ {loc}: on hand {quantity} ({delta:+d})")


@app.command("import")
def import_stock(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE.csv", help="columns: sku,quantity[,location]")
    ],
) -> None:
    """Set on-hand quantities from a CSV (UTF-8 or Windows-1252); all rows or none."""
    from erpsync.errors import ConfigError
    from erpsync.store import ledger

    st, output = state(ctx), out(ctx)
    default = st.config().stock.default_location
    with st.locked() as store, store.session() as session:
        try:
            count = ledger.import_stock_csv(session, file, default_location=default)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    output.info(f"{count} stock levels imported from {file}")
