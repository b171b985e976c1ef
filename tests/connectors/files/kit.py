"""Shared by the files connector tests: a connector on tmp folders, files, pulls."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from erpsync.connector import (
    ConnectorContext,
    ConnectorSettings,
    NothingSeen,
    OrderPage,
    SeenOrders,
    Window,
)
from erpsync.connectors.files import FilesConnector
from erpsync.connectors.files.settings import FilesOptions

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "files" / "inbox"
NOW = datetime(2026, 3, 4, 12, 30, 5, tzinfo=UTC)
WINDOW = Window(datetime(2026, 3, 4, tzinfo=UTC), NOW)  # excludes every example order

MINIMAL = {
    "external_id": "X-1",
    "status": "paid",
    "created_at": "2026-03-01T10:00:00-03:00",
    "updated_at": "2026-03-01T10:00:00-03:00",
    "items_total": "10.00",
    "total": "10.00",
    "items": [{"sku": "CANECA-01", "quantity": 1, "unit_price": "10.00"}],
}
CSV_HEADER = (
    "external_id,status,created_at,updated_at,items_total,total,"
    "item.sku,item.quantity,item.unit_price\n"
)
CSV_ROW = "X-2,paid,2026-03-01T10:00:00Z,2026-03-01T10:00:00Z,10.00,10.00,CANECA-01,1,10.00\n"


class Seen(SeenOrders):
    """A SeenOrders holding the given (external_id, updated_at) versions."""

    def __init__(self, *versions: tuple[str, datetime | None]) -> None:
        self.versions = set(versions)

    def is_current(self, external_id: str, updated_at: datetime | None) -> bool:
        return (external_id, updated_at) in self.versions


def make(tmp_path: Path, **options: object) -> FilesConnector:
    values = {"inbox": tmp_path / "inbox", "outbox": tmp_path / "outbox", **options}
    settings = ConnectorSettings(name="arquivos", type="files", options=FilesOptions(**values))
    return FilesConnector(settings, ConnectorContext(clock=lambda: NOW))


def write(folder: Path, name: str, content: str | bytes | object) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


def pull(connector: FilesConnector, seen: SeenOrders | None = None) -> list[OrderPage]:
    return list(connector.fetch_orders(WINDOW, seen or NothingSeen()))


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
