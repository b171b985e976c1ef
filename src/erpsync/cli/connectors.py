"""connectors list | check | authorize: what is configured, and does it work."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import typer

from erpsync.cli.state import out, state

app = typer.Typer(help="Configured connectors.", no_args_is_help=True, rich_markup_mode=None)


@app.command("list")
def list_connectors(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """List configured connectors with their type and capabilities."""
    from erpsync.registry import resolve

    st, output = state(ctx), out(ctx, json_out)
    config = st.config()
    data: list[dict[str, Any]] = [
        {
            "name": name,
            "type": s.type,
            "enabled": s.enabled,
            "sandbox": s.sandbox,
            "capabilities": sorted(c.value for c in resolve(s.type).capabilities),
        }
        for name, s in config.connectors.items()
    ]
    if json_out:
        output.data(data)
        return
    output.table(
        "connectors",
        ["name", "type", "enabled", "sandbox", "capabilities"],
        [
            (d["name"], d["type"], d["enabled"], d["sandbox"], ", ".join(d["capabilities"]))
            for d in data
        ],
    )


@app.command("check")
def check(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(metavar="[NAME]...")] = None,
) -> None:
    """Validate the config and, for HTTP connectors, authenticate against the platform."""
    from erpsync.engine.runner import run_all, select_connectors

    st, output = state(ctx), out(ctx)
    config = st.config()
    selected = select_connectors(config, names)
    outcomes = run_all(config, st.store(), selected, "check", lambda c: c.check(), record=False)
    for outcome in outcomes:
        if outcome.ok:
            output.info(f"{outcome.connector}: ok: {outcome.report}")
        else:
            output.error(f"{outcome.connector}: {outcome.error}")
    if any(not o.ok for o in outcomes):
        raise typer.Exit(1)


@app.command("authorize")
def authorize(
    ctx: typer.Context,
    name: str,
    code: Annotated[
        str | None,
        typer.Option(metavar="CODE", help="The code from the redirect (asked for when omitted)"),
    ] = None,
) -> None:
    """Print the platform's consent URL, then exchange the code you paste for tokens."""
    from erpsync.connector import Capability
    from erpsync.engine.runner import build_context, open_connector
    from erpsync.errors import ConfigError

    st, output = state(ctx), out(ctx)
    config = st.config()
    if name not in config.connectors:
        raise ConfigError(f"unknown connector {name!r}")
    with open_connector(config, name, build_context(config, st.store())) as connector:
        if Capability.AUTHORIZE not in connector.capabilities:
            raise ConfigError(f"{name}: {connector.type} connectors have no consent flow")
        if code is None:
            url = connector.authorization_url(secrets.token_urlsafe(16))
            output.info(
                f"Open this URL, approve access, and paste the `code` from the redirect:\n{url}"
            )
            code = _read_code()
        description = connector.exchange_code(code.strip())
    output.info(f"{name}: authorised ({description}); tokens stored")


def _read_code() -> str:
    """The code, asked for on a terminal (not echoed), or read as one line from a pipe
    (``echo CODE | erpsync connectors authorize NAME``): getpass would warn there."""
    import sys

    from erpsync.errors import ConfigError

    if sys.stdin.isatty():
        return str(typer.prompt("code", hide_input=True))
    code = sys.stdin.readline().strip()
    if not code:
        raise ConfigError("no code on standard input (paste it, or pass --code)")
    return code
