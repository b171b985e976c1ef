"""products list | import: the SKUs erpsync keeps stock for (kits included)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from erpsync.cli.state import out, state

app = typer.Typer(
    help="Products (SKU, name, GTIN, kit components).", no_args_is_help=True, rich_markup_mode=None
)


@app.command("list")
def list_products(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """List products and their kit components."""
    from erpsync.store import products

    st, output = state(ctx), out(ctx, json_out)
    with st.reading() as session:
        rows = products.list_products(session)
        kits = products.kit_components(session)
    data: list[dict[str, Any]] = [
        {
            "sku": p.sku,
            "name": p.name,
            "gtin": p.gtin,
            "components": [{"sku": c, "quantity": q} for c, q in kits.get(p.sku, [])],
        }
        for p in rows
    ]
    if json_out:
        output.data(data)
        return
    output.table(
        "products",
        ["sku", "name", "gtin", "components"],
        [
            (
                d["sku"],
                d["name"],
                d["gtin"],
                ";".join(f"{c['sku']}*{c['quantity']}" for c in d["components"]),
            )
            for d in data
        ],
    )


@app.command("import")
def import_products(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE.csv", help="columns: sku,name,gtin,components")
    ],
) -> None:
    """Create or update products from a CSV (components as "SKU1*2;SKU2*1")."""
    from erpsync.engine.parked import book_parked, selling_locations
    from erpsync.errors import ConfigError
    from erpsync.store import products

    st, output = state(ctx), out(ctx)
    config = st.config()
    with st.locked() as store, store.session() as session:
        try:
            count = products.import_products_csv(session, file)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        # same transaction: orders pulled before their products book their stock now
        parked = book_parked(
            session,
            locations=selling_locations(config),
            default_location=config.stock.default_location,
        )
    output.info(f"{count} products imported from {file}")
    if parked.summary():
        output.info(str(parked.summary()))
