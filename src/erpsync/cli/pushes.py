"""The push commands of record-by-record resources (`invoices push`, `shipments push`): the
connectors that take the resource, one run each, a summary line per connector, its errors.

No ``from __future__ import annotations`` here: the push command's options are built per
resource (their help text), so its annotations must be evaluated where it is defined."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Protocol

import typer

from erpsync.cli.state import State, out, state

if TYPE_CHECKING:
    from erpsync.cli.output import Output
    from erpsync.connector import Capability
    from erpsync.engine.push_report import RecordPushReport
    from erpsync.engine.runner import Outcome

#: a connector's push: (connector, store, again, on_batch) -> its report
PushJob = Callable[..., "RecordPushReport"]


class PushAll(Protocol):
    def __call__(
        self, st: State, output: "Output", names: list[str] | None, *, again: bool = False
    ) -> list["Outcome"]: ...


def add_push_command(app: typer.Typer, push_all: PushAll, *, doc: str, again_help: str) -> None:
    """Add the ``push`` command to ``app``: ``push_all`` over the selected connectors, then
    the exit code of their outcomes."""

    def push(
        ctx: typer.Context,
        connector: Annotated[
            list[str] | None,
            typer.Option("--connector", "-C", help="Only this connector (repeatable)"),
        ] = None,
        again: Annotated[bool, typer.Option("--again", help=again_help)] = False,
        json_out: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
    ) -> None:
        from erpsync.cli.sync import _finish as finish

        st, output = state(ctx), out(ctx, json_out)
        finish(output, push_all(st, output, connector, again=again), json_out)

    push.__doc__ = doc
    app.command("push")(push)


def push_records(
    st: State,
    output: "Output",
    names: list[str] | None,
    *,
    capability: "Capability",
    command: str,
    unit: str,
    push: PushJob,
    again: bool = False,
    none_selected: str | None = None,
) -> list["Outcome"]:
    """Run ``push`` over every selected connector that has ``capability``; ``command`` names
    the run, ``unit`` the progress; ``none_selected`` is said when none has it."""
    from erpsync.engine.runner import run_all, select_connectors

    config = st.config()
    selected = select_connectors(config, names, capability)
    if not selected:
        if none_selected is not None:
            output.info(none_selected)
        return []

    with st.locked() as store, output.progress(unit) as track:
        outcomes = run_all(
            config,
            store,
            selected,
            command,
            lambda c: push(c, store, again=again, on_batch=track(c.name)),
        )
    for outcome in output.completed(outcomes):
        report: RecordPushReport = outcome.report
        output.info(f"{outcome.connector}: {report.summary()}")
        for error in report.errors:
            output.warn(f"{outcome.connector}: {error}")
    return outcomes
