"""Files connector: which files it reads and when they move, check, options."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from erpsync.connector import NothingSeen
from erpsync.connectors.files.settings import FilesOptions
from erpsync.errors import FatalError
from tests.connectors.files.kit import (
    EXAMPLES,
    MINIMAL,
    WINDOW,
    Seen,
    make,
    pull,
    tree,
    write,
)

# -- which files, and when they move ------------------------------------------------------------


def test_hidden_partial_and_nested_files_are_left_alone(inbox: Path, tmp_path: Path) -> None:
    """requirement: files still being written (.x, *.tmp, *.part) and sub-folders are ignored."""
    for name in (".orders.json", "orders.json.tmp", "orders.CSV.part"):
        write(inbox, name, "not yet complete")
    (inbox / "sub").mkdir()
    write(inbox / "sub", "nested.json", MINIMAL)

    assert pull(make(tmp_path, processed=tmp_path / "done")) == []
    assert tree(inbox) == [".orders.json", "orders.CSV.part", "orders.json.tmp", "sub/nested.json"]


def test_file_moves_to_processed_only_after_the_engine_asks_for_the_next_page(
    inbox: Path, tmp_path: Path
) -> None:
    """requirement: a file leaves the inbox only once its page was committed (next page asked)."""
    write(inbox, "a.json", MINIMAL)
    write(inbox, "b.json", {**MINIMAL, "external_id": "X-9"})
    done = tmp_path / "done"
    pages = make(tmp_path, processed=done).fetch_orders(WINDOW, NothingSeen())

    assert [raw.external_id for raw in next(pages).orders] == ["X-1"]
    assert tree(inbox) == ["a.json", "b.json"]  # page 1 not committed yet
    assert [raw.external_id for raw in next(pages).orders] == ["X-9"]
    assert (tree(inbox), tree(done)) == (["b.json"], ["a.json"])
    assert next(pages, None) is None  # the generator's end: the last page was committed
    assert (tree(inbox), tree(done)) == ([], ["a.json", "b.json"])


def test_engine_stopping_mid_page_leaves_the_file_in_the_inbox(inbox: Path, tmp_path: Path) -> None:
    """requirement: if the engine fails before committing, the file is read again next run."""
    write(inbox, "a.json", MINIMAL)
    pages = make(tmp_path, processed=tmp_path / "done").fetch_orders(WINDOW, NothingSeen())

    next(pages)
    pages.close()  # type: ignore[attr-defined]  # the engine dropping a generator

    assert tree(inbox) == ["a.json"]
    assert not (tmp_path / "done").exists()


def test_current_orders_are_skipped_and_files_without_news_yield_no_page(
    inbox: Path, tmp_path: Path
) -> None:
    """requirement: orders the store holds at this updated_at are not yielded again."""
    write(inbox, "a.json", [MINIMAL, {**MINIMAL, "external_id": "X-2"}])
    write(inbox, "b.json", {**MINIMAL, "external_id": "X-3"})
    stored = datetime(2026, 3, 1, 13, tzinfo=UTC)
    connector = make(tmp_path, processed=tmp_path / "done")

    pages = pull(connector, Seen(("X-1", stored), ("X-3", stored)))

    assert [[raw.external_id for raw in page.orders] for page in pages] == [["X-2"]]
    assert tree(tmp_path / "done") == ["a.json", "b.json"]  # already stored: safe to move


def test_without_processed_files_stay_and_rereading_is_a_no_op(inbox: Path, tmp_path: Path) -> None:
    """requirement: without processed/, files stay in the inbox; seen orders are skipped."""
    write(inbox, "a.json", MINIMAL)
    connector = make(tmp_path)
    [page] = pull(connector)
    [raw] = page.orders

    assert pull(connector, Seen((raw.external_id, raw.updated_at))) == []
    assert tree(inbox) == ["a.json"]


def test_check_describes_the_folders(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requirement: check() verifies the folders and says what it saw in one line."""
    shutil.copytree(EXAMPLES, inbox, dirs_exist_ok=True)
    (tmp_path / "outbox").mkdir()
    monkeypatch.chdir(tmp_path)

    connector = make(Path("."))

    assert connector.check() == "inbox ./inbox (2 files), outbox ./outbox"
    assert make(Path("."), outbox=None, processed="done").check() == (
        "inbox ./inbox (2 files), processed ./done, no outbox (stock push disabled)"
    )
    with pytest.raises(FatalError, match=r"^arquivos: inbox ./missing is not a folder$"):
        make(Path("."), inbox="missing").check()


def test_relative_paths_resolve_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requirement: relative option paths resolve against the current working directory."""
    monkeypatch.chdir(tmp_path)
    connector = make(Path("."), inbox="in", outbox="out")

    assert (connector.inbox, connector.rejected, connector.outbox) == (
        tmp_path / "in",
        tmp_path / "in" / "rejected",
        tmp_path / "out",
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "inbox\n  Field required"),
        ({"inbox": "in", "color": 1}, "color\n  Extra inputs are not permitted"),
        ({"inbox": "in", "processed": "./in"}, "processed must be a different folder from inbox"),
        ({"inbox": "in", "outbox": "in/"}, "outbox must be a different folder from inbox"),
    ],
)
def test_options_are_validated(options: dict[str, object], message: str) -> None:
    """requirement: options forbid unknown keys and folders that would loop back into the inbox."""
    with pytest.raises(ValidationError, match=message):
        FilesOptions(**options)
