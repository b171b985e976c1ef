"""Files connector, listings: the listings file, or one per SKU in the order files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from erpsync.domain import Listing
from erpsync.errors import FatalError
from tests.connectors.files.kit import (
    EXAMPLES,
    MINIMAL,
    make,
    write,
)

# -- listings, check, settings -------------------------------------------------------------------


def test_listings_default_to_one_per_sku_in_the_order_files(tmp_path: Path) -> None:
    """requirement: without listings_file, each SKU in inbox and processed/ is a listing."""
    shutil.copytree(EXAMPLES, tmp_path / "inbox")
    done = tmp_path / "done"
    done.mkdir()
    write(done, "old.json", {**MINIMAL, "items": [{"sku": "KIT-CANECA-2"}]})

    [batch] = list(make(tmp_path, processed=done).fetch_listings())

    assert [(listing.item_id, listing.sku) for listing in batch] == [
        ("CAMISETA-M", "CAMISETA-M"),
        ("CAMISETA-P", "CAMISETA-P"),
        ("CANECA-01", "CANECA-01"),
        ("KIT-CANECA-2", "KIT-CANECA-2"),
    ]


def test_listings_file_lists_the_channel_listings(inbox: Path, tmp_path: Path) -> None:
    """requirement: options.listings_file (item_id,variation_id,sku,title) gives the listings."""
    path = write(
        tmp_path,
        "anuncios.csv",
        "item_id,variation_id,sku\nCAM-BASICA,P,CAMISETA-P\nCANECA,,CANECA-01\n",
    )

    [batch] = list(make(tmp_path, listings_file=path).fetch_listings())

    assert batch == [
        Listing(connector="arquivos", item_id="CAM-BASICA", variation_id="P", sku="CAMISETA-P"),
        Listing(connector="arquivos", item_id="CANECA", sku="CANECA-01"),
    ]
    write(tmp_path, "anuncios.csv", "item_id\nX\n")
    with pytest.raises(
        FatalError, match=r"listings file .*anuncios.csv: missing required column\(s\): sku"
    ):
        list(make(tmp_path, listings_file=path).fetch_listings())
