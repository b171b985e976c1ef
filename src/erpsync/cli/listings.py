"""listings pull | list | link: which channel listing sells which SKU."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from erpsync.cli.state import out, state

app = typer.Typer(
    help="Channel listings and their SKUs.", no_args_is_help=True, rich_markup_mode=None
)


@app.command("pull")
def pull_listings(
    ctx: typer.Context,
    connector: Annotated[
        list[str] | None,
        typer.Option("--connector", "-C", metavar="NAME", help="Only this connector (repeatable)"),
    ] = None,
) -> None:
    """Refresh the listing <-> SKU mapping from each channel's catalogue."""
    from erpsync.cli.sync import _finish as finish
    from erpsync.connector import Capability
    from erpsync.engine.listings import pull_listings as pull_one
    from erpsync.engine.runner import run_all, select_connectors

    st, output = state(ctx), out(ctx)
    config = st.config()
    selected = select_connectors(config, connector, Capability.PULL_LISTINGS)
    with st.locked() as store:
        outcomes = run_all(config, store, selected, "listings-pull", lambda c: pull_one(c, store))
    for outcome in output.completed(outcomes):
        output.info(f"{outcome.connector}: {outcome.report.count} listings")
    finish(output, outcomes, json_out=False)


@app.command("list")
def list_listings(
    ctx: typer.Context,
    connector: Annotated[
        str | None, typer.Option("--connector", "-C", metavar="NAME", help="Only this connector")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Show listings, their SKU and the last quantity pushed."""
    from erpsync.store import listings

    st, output = state(ctx), out(ctx, json_out)
    if connector is not None:
        st.config().connector(connector)  # an unknown name is a usage error
    with st.reading() as session:
        rows = listings.list_listings(session, connector)
        ids = [r.id for r in rows if r.id is not None]
        pushed = listings.pushed(session, ids)
        # channels that take stock per location keep one record per location
        by_location: dict[int, dict[str, int | None]] = {}
        for (listing_id, place), record in sorted(
            listings.pushed_by_location(session, ids).items()
        ):
            by_location.setdefault(listing_id, {})[place] = record.quantity
    data: list[dict[str, Any]] = [
        {
            "connector": r.connector,
            "item_id": r.item_id,
            "variation_id": r.variation_id or None,
            "sku": r.sku,
            "title": r.title,
            "fulfilled_by_channel": r.fulfilled_by_channel,
            "source": r.source,
            "last_pushed": pushed[r.id].quantity if r.id in pushed else None,
            "last_pushed_by_location": by_location.get(r.id or 0, {}),
        }
        for r in rows
    ]
    if json_out:
        output.data(data)
        return
    output.table(
        "listings",
        ["connector", "listing", "sku", "title", "full/fba", "source", "pushed"],
        [
            (
                d["connector"],
                f"{d['item_id']}:{d['variation_id']}" if d["variation_id"] else d["item_id"],
                d["sku"],
                d["title"],
                "yes" if d["fulfilled_by_channel"] else "",
                d["source"],
                _pushed_text(d["last_pushed"], d["last_pushed_by_location"]),
            )
            for d in data
        ],
    )


def _pushed_text(single: int | None, by_location: dict[str, int | None]) -> str | int | None:
    """The pushed column: the one quantity, or each location's (`loja=2 main=7`)."""
    if not by_location:
        return single
    return " ".join(f"{place}={'-' if q is None else q}" for place, q in by_location.items())


@app.command("link")
def link(
    ctx: typer.Context,
    connector: Annotated[str, typer.Argument(metavar="CONNECTOR")],
    listing: Annotated[str, typer.Argument(metavar="ITEM[:VARIATION]")],
    sku: Annotated[str, typer.Argument(metavar="SKU")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Link a listing `listings pull` has not seen (yet)"),
    ] = False,
) -> None:
    """Link a listing to a SKU by hand (a manual link wins over the channel's SKU field).

    The listing must be one `erpsync listings pull` found on the channel, unless --force.
    """
    from erpsync.engine.parked import book_parked, selling_locations
    from erpsync.errors import ConfigError
    from erpsync.store import listings, products

    st, output = state(ctx), out(ctx)
    config = st.config()
    config.connector(connector)  # an unknown name is a usage error
    item_id, sep, variation_id = (part.strip() for part in listing.partition(":"))
    if not item_id or (sep and not variation_id):
        raise ConfigError(f"listing {listing!r}: expected ITEM or ITEM:VARIATION")
    with st.locked() as store, store.session() as session:
        if products.get_product(session, sku) is None:
            raise ConfigError(f"unknown SKU {sku!r} (add it with `erpsync products import`)")
        if not force and listings.get_listing(session, connector, item_id, variation_id) is None:
            raise ConfigError(_no_such_listing(session, connector, item_id, listing))
        listings.link(session, connector, item_id, variation_id or None, sku)
        parked = book_parked(
            session,
            locations=selling_locations(config),
            default_location=config.stock.default_location,
            connector=connector,
        )
    output.info(f"{connector} {listing} -> {sku}")
    if parked.summary():
        output.info(str(parked.summary()))


def _no_such_listing(session: Any, connector: str, item_id: str, listing: str) -> str:
    from erpsync.store import listings

    variations = [
        r.variation_id
        for r in listings.list_listings(session, connector)
        if r.item_id == item_id and r.variation_id
    ]
    if variations:
        shown = ", ".join(f"{item_id}:{v}" for v in variations[:10])
        return f"{connector} has no listing {listing!r}; its variations are {shown}"
    return (
        f"{connector} has no listing {listing!r} among the listings pulled: check the id, run "
        f"`erpsync listings pull -C {connector}`, or link it anyway with --force"
    )
