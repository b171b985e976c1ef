"""The CLI as a user meets it: commands, --json output, one-line errors and exit codes."""

import textwrap

import pytest

from tests.engine.fakes import FakeConnector


def test_help_lists_every_command(run):
    result = run("--help")
    assert result.exit_code == 0
    for command in [
        "pull-orders",
        "push-stock",
        "sync",
        "status",
        "orders",
        "products",
        "stock",
        "listings",
        "quarantine",
        "connectors",
    ]:
        assert command in result.stdout


def test_pull_orders_then_orders_list_and_show(run, workdir):
    assert run("products", "import", "products.csv").exit_code == 0
    assert run("stock", "set", "SKU-A", "100").exit_code == 0
    result = run("pull-orders")
    assert result.exit_code == 0, result.stderr
    assert "shop: 12 fetched, 12 new, 0 updated, 0 quarantined" in result.stderr

    listed = run("orders", "list", "--json").json()
    assert len(listed) == 12
    assert set(listed[0]) == {
        "connector",
        "platform",
        "external_id",
        "number",
        "status",
        "channel_status",
        "created_at",
        "updated_at",
        "currency",
        "items_total",
        "shipping_cost",
        "discount",
        "total",
        "buyer",
        "shipping_address",
        "items",
        "fulfilled_by_channel",
        "sale_ref",
    }
    shown = run("orders", "show", "shop:G00001", "--json").json()
    assert shown["total"] == "20.00"
    assert shown["updated_at"].endswith("+00:00")
    assert shown["items"][0] == {
        "sku": "SKU-A",
        "channel_item_id": None,
        "variation_id": None,
        "title": "SKU-A",
        "quantity": 2,
        "unit_price": "10.00",
    }


def test_second_pull_changes_nothing(run, workdir):
    run("pull-orders")
    result = run("pull-orders", "--json")
    assert result.exit_code == 0
    [outcome] = result.json()
    assert outcome["counts"]["new"] == 0 and outcome["ok"] is True


def test_status_reports_runs_cursors_and_unknown_skus(run, workdir):
    run("pull-orders")
    status = run("status", "--json").json()
    assert status["runs"][0]["command"] == "pull-orders"
    assert status["runs"][0]["outcome"] == "ok"
    assert status["cursors"][0]["connector"] == "shop"
    assert {u["sku"] for u in status["unknown_skus"]} == {"SKU-A", "SKU-B"}


def test_stock_set_and_list(run, workdir):
    run("products", "import", "products.csv")
    assert run("stock", "set", "SKU-B", "7", "--location", "main").exit_code == 0
    rows = {r["sku"]: r for r in run("stock", "list", "--json").json()}
    assert rows["SKU-B"] == {
        "sku": "SKU-B",
        "kit": False,
        "on_hand": 7,
        "reserved": 0,
        "available": 6,
    }


def test_stock_list_shows_what_push_sends_kits_included(run, workdir):
    """requirement: one availability computation: `stock list` (safety stock included, kits
    from their components) agrees with push-stock --explain."""
    run("products", "import", "products.csv")
    run("stock", "set", "SKU-A", "10")
    run("stock", "set", "SKU-B", "4")
    run("listings", "link", "--force", "shop", "MLB1", "KIT-AB")
    rows = {r["sku"]: r for r in run("stock", "list", "--json").json()}
    assert rows["KIT-AB"] == {
        "sku": "KIT-AB",
        "kit": True,
        "on_hand": None,
        "reserved": None,
        "available": 3,
    }
    assert (rows["SKU-A"]["available"], rows["SKU-B"]["available"]) == (9, 3)
    [outcome] = run("push-stock", "--dry-run", "--json").json()
    assert [(p["sku"], p["new"]) for p in outcome["plan"]] == [("KIT-AB", 3)]
    assert "safety stock" in run("stock", "list", "--help").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("stock", "set", "KIT-AB", "5"),
            "KIT-AB is a kit: its stock is its components' (set those instead)",
        ),
        (
            ("stock", "set", "SKU-A", "5", "-l", "Main"),
            "--location: unknown location 'Main' (did you mean 'main'? known: main; "
            "--new-location adds one)",
        ),
        (
            ("stock", "set", "SKU-A", "5", "-l", "mian"),
            "--location: unknown location 'mian' (known: main; --new-location adds one)",
        ),
    ],
)
def test_stock_set_refuses_kits_and_unknown_locations(run, workdir, args, message):
    run("products", "import", "products.csv")
    result = run(*args)
    assert (result.exit_code, result.stderr.strip()) == (2, f"erpsync: error: {message}")
    assert run("stock", "list", "--json").json()[0]["on_hand"] is None  # KIT-AB first, kit
    assert {r["on_hand"] for r in run("stock", "list", "--json").json()[1:]} == {0}


def test_stock_set_accepts_a_new_location_when_asked(run, workdir):
    run("products", "import", "products.csv")
    assert run("stock", "set", "SKU-A", "5", "-l", "loja2", "--new-location").exit_code == 0
    # it holds stock now, so it is known from then on
    assert run("stock", "set", "SKU-A", "6", "-l", "loja2").exit_code == 0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("SKU-A,1\nSKU-B,2\nSKU-A,3\n", "line 4: duplicate sku 'SKU-A' (first on line 2)"),
        (
            "SKU-A,1,main\nSKU-A,2,main\n",
            "line 3: duplicate sku 'SKU-A' at main (first on line 2)",
        ),
        (
            "SKU-A,1,mian\n",
            "line 2: unknown location 'mian' (known: main; --new-location adds one)",
        ),
        ("KIT-AB,1\n", "line 2: KIT-AB is a kit: its stock is its components' (set those instead)"),
    ],
)
def test_stock_import_refuses_what_would_silently_change_meaning(run, workdir, rows, message):
    """requirement: a SKU twice, a misspelt location and a kit are refused with the line
    number, and nothing is written."""
    run("products", "import", "products.csv")
    header = "sku,quantity,location\n" if rows.count(",") > rows.count("\n") else "sku,quantity\n"
    (workdir / "stock.csv").write_text(header + rows)
    result = run("stock", "import", "stock.csv")
    assert (result.exit_code, result.stderr.strip()) == (2, f"erpsync: error: stock.csv: {message}")
    assert {r["on_hand"] for r in run("stock", "list", "--json").json() if not r["kit"]} == {0}


def test_stock_import_takes_the_same_sku_in_two_locations_and_new_ones_when_asked(run, workdir):
    run("products", "import", "products.csv")
    (workdir / "stock.csv").write_text("sku,quantity,location\nSKU-A,1,main\nSKU-A,2,loja2\n")
    assert run("stock", "import", "stock.csv").exit_code == 2
    result = run("stock", "import", "stock.csv", "--new-location")
    assert result.exit_code == 0, result.stderr
    rows = {r["sku"]: r for r in run("stock", "list", "-l", "main", "-l", "loja2", "--json").json()}
    assert rows["SKU-A"]["on_hand"] == 3


def test_push_stock_dry_run_explains(run, workdir):
    run("products", "import", "products.csv")
    run("stock", "set", "SKU-A", "10")
    run("listings", "link", "--force", "shop", "MLB1", "SKU-A")
    result = run("push-stock", "--dry-run", "--explain")
    assert result.exit_code == 0, result.stderr
    assert "on hand 10 - reserved 0 - safety 1 = 9" in result.stdout


def test_listings_link_and_list(run, workdir):
    run("products", "import", "products.csv")
    assert run("listings", "link", "--force", "shop", "MLB9:77", "SKU-B").exit_code == 0
    [row] = run("listings", "list", "--json").json()
    assert (row["item_id"], row["variation_id"], row["sku"], row["source"]) == (
        "MLB9",
        "77",
        "SKU-B",
        "manual",
    )


def test_listings_list_shows_each_locations_last_push(run, workdir):
    """requirement: a listing pushed per location (Nuvemshop location_ids, Anymarket
    stock_local_ids) shows each location's last accepted quantity."""
    import yaml

    from erpsync.domain import utcnow
    from erpsync.store import listings, open_store

    run("products", "import", "products.csv")
    run("listings", "link", "--force", "shop", "MLB9:77", "SKU-B")
    store = open_store(yaml.safe_load((workdir / "erpsync.yaml").read_text())["database"])
    with store.session() as session:
        [row] = listings.list_listings(session, "shop")
        listings.record_push(session, row.id, 7, ok=True, at=utcnow(), location="main")
        listings.record_push(session, row.id, None, ok=False, at=utcnow(), location="loja")
    store.close()
    [found] = run("listings", "list", "--json").json()
    assert (found["last_pushed"], found["last_pushed_by_location"]) == (
        None,
        {"loja": None, "main": 7},
    )
    assert "loja=- main=7" in run("listings", "list").stdout


def test_connectors_list(run, workdir):
    [row] = run("connectors", "list", "--json").json()
    assert row["name"] == "shop" and "pull_orders" in row["capabilities"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stock", "set", "NOPE", "1"), "unknown SKU 'NOPE'"),
        (("orders", "show", "shop:404"), "no order 'shop:404' in the store"),
        (("pull-orders", "--connector", "ghost"), "unknown connector 'ghost' (configured: shop)"),
        (("pull-orders", "--since", "yesterday"), "--since: 'yesterday' is not a date"),
        (("listings", "link", "shop", "MLB1", "NOPE"), "unknown SKU 'NOPE'"),
        (("listings", "link", "shop", "", "SKU-A"), "listing '': expected ITEM or ITEM:VARIATION"),
        (("listings", "link", "shop", "MLB1:", "SKU-A"), "expected ITEM or ITEM:VARIATION"),
        (("push-stock", "--explain"), "--explain shows a plan: use it with --dry-run"),
        (("quarantine", "replay", "999"), "no open quarantine item 999"),
        (("orders", "list", "--status", "bogus"), "--status: 'bogus' is not an order status"),
        (("stock", "import", "missing.csv"), "missing.csv: file not found"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(run, workdir, args, message):
    assert run("products", "import", "products.csv").exit_code == 0  # creates the database
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_broken_config_is_reported_per_key(run, tmp_path):
    (tmp_path / "bad.yaml").write_text(
        textwrap.dedent(
            """\
            stock:
              safety_stock: -1
            connectors:
              shop:
                type: nosuchtype
            """
        )
    )
    result = run("--config", str(tmp_path / "bad.yaml"), "pull-orders")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert "stock.safety_stock" in result.stderr
    assert "connectors.shop.type: unknown connector type 'nosuchtype'" in result.stderr


def test_missing_config_file(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("pull-orders")
    assert result.exit_code == 2
    assert "erpsync.yaml" in result.stderr and "not found" in result.stderr


def test_a_failing_connector_exits_1_and_is_recorded(run, workdir):
    config = (workdir / "erpsync.yaml").read_text()
    (workdir / "erpsync.yaml").write_text(
        config + "  broken:\n    type: tests.engine.fakes:ExplodingConnector\n"
    )
    result = run("pull-orders")
    assert result.exit_code == 1
    assert "erpsync: error: broken: platform said no" in result.stderr
    assert "shop: 12 fetched" in result.stderr  # the other connector still ran
    runs = {r["connector"]: r for r in run("status", "--json").json()["runs"]}
    assert runs["broken"]["outcome"] == "failed"
    assert runs["broken"]["error"] == "platform said no"


def test_quarantine_list_and_replay(run, workdir, monkeypatch):
    """requirement: unmappable payloads are kept with the error, and replayed once fixed."""
    config = (workdir / "erpsync.yaml").read_text()
    (workdir / "erpsync.yaml").write_text(config + "      broken: [G00003]\n")
    assert "1 quarantined" in run("pull-orders").stderr
    [item] = run("quarantine", "list", "--json").json()
    assert item["external_id"] == "G00003"
    assert item["error"] == "ValueError: field 'total' is not a number"

    still = run("quarantine", "replay")
    assert still.exit_code == 3 and "0 imported, 1 still failing" in still.stderr

    monkeypatch.setattr(FakeConnector, "map_order", fixed_map_order)
    done = run("quarantine", "replay")
    assert done.exit_code == 0 and "1 imported, 0 still failing" in done.stderr
    assert run("quarantine", "list", "--json").json() == []
    assert run("orders", "show", "shop:G00003", "--json").json()["external_id"] == "G00003"


original_map_order = FakeConnector.map_order


def fixed_map_order(self, payload):
    """The mapping after an upgrade that understands the payload."""
    return original_map_order(self, {**payload, "broken": False})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"sku,quantity\nSKU-A,99999999999999999999\n",
            "line 2: quantity 99999999999999999999 is out of range",
        ),
        (b"sku,quantity\nSKU-A,-1\n", "line 2: quantity -1 is out of range"),
        (b"sku,quantity\nSKU-A,dez\n", "line 2: quantity 'dez' is not a whole number"),
        (b"sku,quantity\nNOPE,1\n", "line 2: unknown SKU 'NOPE'"),
        (b"sku,qty\nSKU-A,1\n", "line 1: unknown column 'qty'"),
        (b"sku,quantity\nSKU-A,1,extra\n", "line 2: more values than columns"),
        (b'sku,quantity\n"SKU-A,1\n', "malformed CSV"),
        (b"\xff\xfe\x00\x81\x8d", "not a text file"),
    ],
    ids=[
        "overflow",
        "negative",
        "not-a-number",
        "unknown-sku",
        "unknown-column",
        "extra-value",
        "bad-quoting",
        "binary",
    ],
)
def test_bad_stock_csv_is_one_line_and_writes_nothing(run, workdir, content, message):
    """requirement: bad input gets a clear error (file and line) and loses nothing."""
    run("products", "import", "products.csv")
    run("stock", "set", "SKU-A", "5")
    (workdir / "stock.csv").write_bytes(content)
    result = run("stock", "import", "stock.csv")
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert {r["sku"]: r["on_hand"] for r in run("stock", "list", "--json").json()}["SKU-A"] == 5


def test_stock_csv_saved_by_excel_in_windows_1252_is_read(run, workdir):
    run("products", "import", "products.csv")
    (workdir / "stock.csv").write_bytes(
        "SKU,Quantity,Location\nSKU-A,7,depósito\n".encode("cp1252")
    )
    assert run("stock", "import", "stock.csv", "--new-location").exit_code == 0
    rows = run("stock", "list", "--location", "depósito", "--json").json()
    assert {r["sku"]: r["on_hand"] for r in rows}["SKU-A"] == 7


def test_a_bad_lock_wait_setting_is_a_user_error(run, workdir, monkeypatch):
    monkeypatch.setenv("ERPSYNC_LOCK_WAIT", "abc")
    result = run("pull-orders")
    assert result.exit_code == 2
    assert "ERPSYNC_LOCK_WAIT: 'abc' is not a number of seconds" in result.stderr


def test_since_accepts_a_space_between_date_and_time(run, workdir):
    assert run("pull-orders", "--since", "2026-11-01 10:00:00-03:00").exit_code == 0


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"], ids=["utf8", "bom", "utf16", "1252"]
)
def test_brazilian_spreadsheets_import_in_every_encoding(run, workdir, encoding):
    """requirement (issue 7, item 13): `;`-separated products and stock files, in any encoding
    Excel saves, with decimal-comma numbers, import as the `,` files do."""
    (workdir / "produtos.csv").write_bytes(
        "SKU;Name;GTIN;Components\nSKU-A;Caneca Ç;;\nSKU-B;Camiseta;;\nKIT;Kit;;SKU-A*2\n".encode(
            encoding
        )
    )
    assert run("products", "import", "produtos.csv").exit_code == 0
    (workdir / "estoque.csv").write_bytes("sku;quantity\nSKU-A;1234\nSKU-B;5,0\n".encode(encoding))
    result = run("stock", "import", "estoque.csv")
    assert result.exit_code == 0, result.stderr
    rows = {r["sku"]: r for r in run("stock", "list", "--json").json()}
    assert (rows["SKU-A"]["on_hand"], rows["SKU-B"]["on_hand"]) == (1234, 5)
    assert run("products", "list", "--json").json()[1]["name"] == "Caneca Ç"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("sku;quantity\nSKU-A;1.234\n", "line 2: quantity '1.234' is ambiguous"),
        ("sku;quantity\nSKU-A;2,5\n", "line 2: quantity '2,5' is not a whole number"),
        ('sku,quantity\nSKU-A,"1,0"\n', "line 2: quantity '1,0' is ambiguous in a ','"),
        ("sku;quantity,location\n", "line 1: the header holds both ';' and ','"),
    ],
)
def test_numbers_that_read_two_ways_are_refused_with_their_line(run, workdir, content, message):
    run("products", "import", "products.csv")
    (workdir / "estoque.csv").write_text(content)
    result = run("stock", "import", "estoque.csv")
    assert result.exit_code == 2 and f"estoque.csv: {message}" in result.stderr


def test_sync_passes_since_to_its_pull_and_full_to_its_push(run, workdir, monkeypatch):
    """requirement: `sync --since` re-pulls from that date as `pull-orders --since` does, and
    `sync --full` sends every listing as `push-stock --full` does; without them a second sync
    sends nothing; a bad date is refused before any step runs."""
    from erpsync.engine import pull

    windows = []

    def recorded(connector, store, since):
        windows.append(pull_window(connector, store, since))
        return windows[-1]

    pull_window = pull.pull_window
    monkeypatch.setattr(pull, "pull_window", recorded)
    run("products", "import", "products.csv")
    run("stock", "set", "SKU-A", "10")
    run("listings", "link", "--force", "shop", "MLB1", "SKU-A")
    first = run("sync")
    assert first.exit_code == 0, first.stderr
    assert "shop: 12 fetched, 12 new" in first.stderr
    assert "shop: 1 sent, 0 failed" in first.stderr
    quiet = run("sync")
    assert "shop: 0 sent, 0 failed, 1 unchanged" in quiet.stderr
    again = run("sync", "--since", "2000-01-01T00:00:00Z", "--full")
    assert again.exit_code == 0, again.stderr
    assert "shop: 1 sent, 0 failed" in again.stderr
    # the quiet sync's window starts at the cursor (the first sync's end), --since's at it
    assert windows[1].start > windows[0].start
    assert windows[2].start.isoformat() == "2000-01-01T00:00:00+00:00"
    refused = run("sync", "--since", "yesterday")
    assert refused.exit_code == 2
    assert refused.stderr.startswith("erpsync: error: --since: 'yesterday' is not a date")
    assert len(windows) == 3  # the refused sync pulled nothing
