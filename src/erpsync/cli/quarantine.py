"""quarantine list | replay: payloads a mapping could not read, kept until they can be."""

from __future__ import annotations

from typing import Annotated

import typer

from erpsync.cli.state import out, state

app = typer.Typer(
    help="Payloads that could not be mapped.", no_args_is_help=True, rich_markup_mode=None
)


@app.command("list")
def list_quarantine(
    ctx: typer.Context,
    connector: Annotated[
        str | None, typer.Option("--connector", "-C", metavar="NAME", help="Only this connector")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Show open quarantine items with their error."""
    from erpsync.store import quarantine

    st, output = state(ctx), out(ctx, json_out)
    if connector is not None:
        st.config().connector(connector)  # an unknown name is a usage error
    with st.reading() as session:
        items = quarantine.open_items(session, connector)
    data = [
        {
            "id": q.id,
            "connector": q.connector,
            "external_id": q.external_id,
            "error": q.error,
            "created_at": q.created_at.isoformat(),
        }
        for q in items
    ]
    if json_out:
        output.data(data)
        return
    output.table(
        "quarantine",
        ["id", "connector", "external_id", "created_at", "error"],
        [(q.id, q.connector, q.external_id, output.when(q.created_at), q.error) for q in items],
    )


@app.command("replay")
def replay(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(metavar="[ID]...")] = None,
) -> None:
    """Map quarantined payloads again (after an upgrade or a fixed product); import what maps."""
    from erpsync.engine.replay import replay_quarantine
    from erpsync.errors import EXIT_PARTIAL

    st, output = state(ctx), out(ctx)
    with st.locked() as store:
        done, failed = replay_quarantine(st.config(), store, ids or None)
    output.info(f"{done} imported, {failed} still failing")
    if failed:  # records failed, the command ran: partial, like a pull that quarantines
        raise typer.Exit(EXIT_PARTIAL)
