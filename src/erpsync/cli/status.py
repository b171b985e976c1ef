"""status: last runs, cursors, errors, unknown SKUs and the quarantine, at a glance."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from erpsync.cli.state import out, state


def register(app: typer.Typer) -> None:
    app.command("status")(status)


def status(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Show the last runs, cursors, errors, unknown SKUs and quarantined payloads."""
    from erpsync.engine import reports
    from erpsync.engine.lock import run_lock_held
    from erpsync.store import urls

    st, output = state(ctx), out(ctx, json_out)
    with st.reading() as session:
        summary: dict[str, Any] = reports.status_summary(session)
    running = [r for r in summary["runs"] if r["outcome"] == "running"]
    database = st.config().database
    if running and urls.is_postgresql(database):
        from erpsync.store.leases import held_connectors

        # several workers: a run is alive while a live worker holds its connector's lease (a
        # killed worker's lease outlives it, but its presence lock goes with its connection)
        leased = held_connectors(st.store())
        running = [r for r in running if r["connector"] not in leased]
    elif running and (not urls.sqlite_path(database) or run_lock_held(database)):
        # the run lock is held, or cannot be seen from here (another server database)
        running = []
    for r in running:
        # a run records "running" first; nobody holds its lock or lease, so it was killed
        r["outcome"] = "died"
    if json_out:
        output.data(summary)
        return
    output.table(
        "last runs",
        ["started", "command", "connector", "outcome", "counts", "error"],
        [
            (
                output.when(r["started_at"]),
                r["command"],
                r["connector"],
                r["outcome"],
                _counts(r["counts"]),
                r["error"],
            )
            for r in summary["runs"]
        ],
    )
    output.table(
        "cursors",
        ["connector", "resource", "value"],
        [(c["connector"], c["resource"], output.when(c["value"])) for c in summary["cursors"]],
    )
    if summary["unknown_skus"]:
        output.table(
            "unknown SKUs in orders",
            ["connector", "sku", "orders"],
            [(u["connector"], u["sku"], u["orders"]) for u in summary["unknown_skus"]],
        )
    if summary["parked_lines"]:
        output.table(
            "order lines parked: stock booked once their SKU is known",
            ["connector", "sku", "orders", "units"],
            [(p["connector"], p["sku"], p["orders"], p["units"]) for p in summary["parked_lines"]],
        )
    if summary["reinstated"]:
        output.table(
            "cancellations reverted by the channel: stock booked again",
            ["connector", "order", "booked at"],
            [(r["connector"], r["external_id"], r["booked_at"]) for r in summary["reinstated"]],
        )
    if summary["sales_seen_twice"]:
        output.table(
            "sales seen through two connectors: only the first copy moves stock",
            ["sale", "moves stock (authoritative)", "copy (no stock)"],
            [(t["sale"], t["stock"], t["copy"]) for t in summary["sales_seen_twice"]],
        )
    if summary["withheld"]:
        output.table(
            "orders with withheld data",
            ["connector", "note", "orders", "latest"],
            [(w["connector"], w["note"], w["orders"], w["latest"]) for w in summary["withheld"]],
        )
    unlisted = summary["unlisted_skus"]
    if unlisted["count"]:
        more = unlisted["count"] - len(unlisted["examples"])
        output.info(
            f"{unlisted['count']} products have no listing on any channel (push-stock sends "
            f"nothing for them): {', '.join(unlisted['examples'])}"
            + (f" and {more} more" if more > 0 else "")
        )
    if summary["push_errors"]:
        output.table(
            "stock pushes failing",
            ["connector", "listing", "error"],
            [(p["connector"], p["listing"], p["error"]) for p in summary["push_errors"]],
        )
    if summary["cancelled_after_invoice"]:
        output.table(
            "cancelled after the NF-e",
            ["order", "access_key", "action"],
            [
                (c["order"], c["access_key"], c["action"])
                for c in summary["cancelled_after_invoice"]
            ],
        )
    if summary["invoice_pushes"]:
        output.table(
            "invoice pushes not accepted",
            ["connector", "order", "access_key", "state", "error"],
            [
                (p["connector"], p["order"], p["access_key"], p["state"], p["error"])
                for p in summary["invoice_pushes"]
            ],
        )
    if summary["invoices_stuck_in_erp"]:
        output.table(
            "NF-e stuck in the ERP (pending, rejected, or refused here): each order is asked "
            "again every run until settled",
            ["erp", "order", "erp order", "stuck since"],
            [
                (s["erp"], s["order"], s["remote_id"], output.when(s["since"]))
                for s in summary["invoices_stuck_in_erp"]
            ],
        )
    if summary["tracking_pushes"]:
        output.table(
            "tracking pushes not accepted",
            ["connector", "order", "shipment", "tracking_code", "state", "error"],
            [
                (
                    p["connector"],
                    p["order"],
                    p["shipment"],
                    p["tracking_code"],
                    p["state"],
                    p["error"],
                )
                for p in summary["tracking_pushes"]
            ],
        )
    output.info(f"quarantine: {summary['quarantine']} open item(s)")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in counts.items() if v)
