"""stock list | set | import: on-hand quantities per SKU and location (depósito)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from erpsync.cli.state import out, state
from erpsync.store.csvfile import MAX_QUANTITY

if TYPE_CHECKING:
    from sqlmodel import Session

    from erpsync.config import Config

app = typer.Typer(
    help="Stock levels per SKU and location.", no_args_is_help=True, rich_markup_mode=None
)
LocationOpt = Annotated[
    str | None,
    typer.Option(
        "--location",
        "-l",
        metavar="LOC",
        help="Location (default: the config's stock.default_location)",
    ),
]
NewLocationOpt = Annotated[
    bool,
    typer.Option(
        "--new-location",
        help="Accept a location no connector sells from and no stock is in yet (else a typo)",
    ),
]


@app.command("list")
def list_stock(
    ctx: typer.Context,
    location: Annotated[
        list[str] | None,
        typer.Option(
            "--location",
            "-l",
            metavar="LOC",
            help="Sum over these locations (default: stock.default_location)",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """On hand, reserved and available per SKU: available = on hand - reserved - safety stock
    (never below 0), a kit's from its components; the number push-stock sends."""
    from erpsync.cli.sync import _on_hand
    from erpsync.engine import availability
    from erpsync.store import products

    st, output = state(ctx), out(ctx, json_out)
    config = st.config()
    locations = location or [config.stock.default_location]
    on_hand = _on_hand(config)
    with st.reading() as session:
        skus = [p.sku for p in products.list_products(session)]
        found = availability.compute(
            session,
            skus,
            locations=locations,
            kits=products.kit_components(session),
            safety_stock=config.stock.safety_stock,
            source=on_hand(session) if on_hand is not None else None,
        )
    data = [
        {
            "sku": a.sku,
            "kit": a.is_kit,
            "on_hand": a.on_hand,
            "reserved": a.reserved,
            "available": a.available,
        }
        for a in found.values()
    ]
    if json_out:
        output.data(data)
        return
    output.table(
        f"stock ({', '.join(locations)}; safety stock {config.stock.safety_stock})",
        ["sku", "on_hand", "reserved", "available"],
        [
            (d["sku"], "kit" if d["kit"] else d["on_hand"], d["reserved"], d["available"])
            for d in data
        ],
    )


@app.command("set")
def set_stock(
    ctx: typer.Context,
    sku: str,
    quantity: Annotated[int, typer.Argument(metavar="QTY", min=0, max=MAX_QUANTITY)],
    location: LocationOpt = None,
    new_location: NewLocationOpt = False,
) -> None:
    """Set the on-hand quantity of a SKU (writes an adjusting movement to the ledger)."""
    from erpsync.errors import ConfigError
    from erpsync.store import ledger, products

    st, output = state(ctx), out(ctx)
    config = st.config()
    loc = location or config.stock.default_location
    with st.locked() as store, store.session() as session:
        if products.get_product(session, sku) is None:
            raise ConfigError(f"unknown SKU {sku!r} (add it with `erpsync products import`)")
        if sku in products.kit_components(session):
            raise ConfigError(f"{sku} is a kit: its stock is its components' (set those instead)")
        problem = None if new_location else ledger.location_problem(loc, _known(config, session))
        if problem:
            raise ConfigError(f"--location: {problem}")
        delta = ledger.set_on_hand(session, sku, loc, quantity, reason="adjust")
    output.info(f"{sku} @ {loc}: on hand {quantity} ({delta:+d})")


@app.command("import")
def import_stock(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE.csv", help="columns: sku,quantity[,location]")
    ],
    new_location: NewLocationOpt = False,
) -> None:
    """Set on-hand quantities from a CSV (`,` or `;`; UTF-8, UTF-16 or Windows-1252); all rows
    or none. A SKU twice, a kit, or an unknown location is refused with its line."""
    from erpsync.errors import ConfigError
    from erpsync.store import ledger, products

    st, output = state(ctx), out(ctx)
    config = st.config()
    with (
        st.locked() as store,
        output.progress("rows") as track,
        store.session() as session,
    ):
        try:
            count = ledger.import_stock_csv(
                session,
                file,
                default_location=config.stock.default_location,
                known_locations=None if new_location else _known(config, session),
                kits=set(products.kit_components(session)),
                on_progress=track(f"importing {file.name}"),
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    output.info(f"{count} stock levels imported from {file}")


def _known(config: Config, session: Session) -> set[str]:
    """Locations stock may go to without --new-location: a connector sells from it, it is the
    default, or it holds stock already."""
    from erpsync.store import ledger

    known = {loc for c in config.connectors.values() for loc in c.locations}
    return known | {config.stock.default_location} | ledger.locations(session)
