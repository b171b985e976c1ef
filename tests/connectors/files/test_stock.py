"""Files connector, stock: one outbox CSV per push, written atomically."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from erpsync.domain import StockUpdate
from erpsync.errors import FatalError
from tests.connectors.files.kit import (
    make,
    tree,
    write,
)

# -- stock -------------------------------------------------------------------------------------

UPDATES = [
    StockUpdate(item_id="CAMISETA-P", sku="CAMISETA-P", quantity=12),
    StockUpdate(item_id="CAM-BASICA", variation_id="M", sku="CAMISETA-M", quantity=0),
]


def test_push_stock_writes_one_csv_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requirement: stock goes to <outbox>/stock-<UTC>.csv via a temporary file and a rename."""
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(source: str | Path, target: str | Path) -> None:
        renames.append((Path(source).name, Path(target).name))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    (tmp_path / "outbox").mkdir()
    connector = make(tmp_path)

    results = connector.push_stock(UPDATES)
    second = connector.push_stock(UPDATES[:1])

    assert [(r.ref, r.ok, r.pending, r.error) for r in results] == [
        ("CAMISETA-P", True, False, None),
        ("CAM-BASICA:M", True, False, None),
    ]
    assert second[0].ok
    assert renames == [
        (".stock-20260304T123005Z.csv.tmp", "stock-20260304T123005Z.csv"),
        (".stock-20260304T123005Z-2.csv.tmp", "stock-20260304T123005Z-2.csv"),
    ]
    outbox = tmp_path / "outbox"
    assert tree(outbox) == ["stock-20260304T123005Z-2.csv", "stock-20260304T123005Z.csv"]
    with (outbox / "stock-20260304T123005Z.csv").open(newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [
            ["sku", "item_id", "variation_id", "quantity"],
            ["CAMISETA-P", "CAMISETA-P", "", "12"],
            ["CAMISETA-M", "CAM-BASICA", "M", "0"],
        ]


def test_push_stock_failures_are_results_not_tracebacks(tmp_path: Path) -> None:
    """requirement: an unwritable or unset outbox gives ok=False results with the reason."""
    write(tmp_path, "outbox", "a file where the folder should be")

    blocked = make(tmp_path).push_stock(UPDATES)
    unset = make(tmp_path, outbox=None).push_stock(UPDATES)

    assert {(r.ok, r.error) for r in blocked} == {
        (False, f"cannot write to outbox {tmp_path / 'outbox'}: Not a directory")
    }
    assert {(r.ok, r.error) for r in unset} == {(False, "no outbox configured (options.outbox)")}
    assert make(tmp_path).push_stock([]) == []


def test_push_stock_refuses_an_outbox_that_does_not_exist(tmp_path: Path) -> None:
    """requirement: a missing outbox is one error for the connector, and nothing is created
    (a wrongly anchored path would otherwise swallow the stock files)."""
    with pytest.raises(FatalError) as raised:
        make(tmp_path).push_stock(UPDATES)
    assert str(raised.value) == (
        f"arquivos: outbox {tmp_path / 'outbox'} does not exist (create it, or fix options.outbox)"
    )
    assert not (tmp_path / "outbox").exists()
    (tmp_path / "inbox").mkdir()
    with pytest.raises(FatalError, match=r"outbox .* does not exist$"):
        make(tmp_path).check()
