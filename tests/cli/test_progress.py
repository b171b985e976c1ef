"""Progress (issue 7, item 15): a bar with totals and an ETA on a terminal, a plain line every
~10 s in cron; the engine only calls back, output.py prints."""

import io
import re

from rich.console import Console

from erpsync.cli.output import Output
from tests.cli.test_subprocess import erpsync, write_config


def test_on_a_terminal_a_known_total_shows_done_of_total_and_an_eta():
    buffer = io.StringIO()
    output = Output(err=Console(file=buffer, force_terminal=True, width=120, no_color=True))
    with output.progress("rows") as track:
        advance = track("importing stock.csv")
        advance(250, 1000)
    shown = buffer.getvalue()
    assert "importing stock.csv" in shown and "250/1000 rows" in shown
    assert re.search(r"\d:\d\d:\d\d", shown)  # time left / elapsed


def test_in_cron_a_long_pull_prints_a_plain_line_now_and_then(tmp_path):
    """requirement: not a TTY: a progress line every ERPSYNC_PROGRESS_SECONDS (default 10)."""
    write_config(tmp_path, generate=600, page_delay=0.02)
    result = erpsync("pull-orders", cwd=tmp_path, env={"ERPSYNC_PROGRESS_SECONDS": "0.1"})
    assert result.returncode == 0, result.stderr
    ticks = [
        line
        for line in result.stderr.splitlines()
        if re.fullmatch(r"shop: \d+ orders \(\d+ s\)", line)
    ]
    assert len(ticks) >= 2
    quick = erpsync("pull-orders", "--since", "2020-01-01", cwd=tmp_path)
    assert not [line for line in quick.stderr.splitlines() if " orders (" in line]  # under 10 s
    quiet = erpsync("-q", "pull-orders", cwd=tmp_path, env={"ERPSYNC_PROGRESS_SECONDS": "0"})
    assert quiet.stderr == ""


def test_where_the_platform_gives_a_total_the_cron_line_counts_to_it_with_time_left(tmp_path):
    """requirement (item 15): "N of M orders (… s, about … s left)" from the totals a listing
    announces (Mercado Livre's paging.total, Nuvemshop's X-Total-Count); orders already
    stored count as listed, so a second pull where nothing changed still reaches M."""
    write_config(tmp_path, generate=300, page_delay=0.02, announce_total=True)
    env = {"ERPSYNC_PROGRESS_SECONDS": "0"}
    for run in ("first", "again"):
        result = erpsync("pull-orders", "--since", "2020-01-01", cwd=tmp_path, env=env)
        assert result.returncode == 0, (run, result.stderr)
        ticks = [
            m.groups()
            for m in re.finditer(r"^shop: (\d+) of (\d+) orders \(\d+ s(, about \d+ s left)?\)$",
                                 result.stderr, re.M)
        ]  # fmt: skip
        assert ticks[-1][:2] == ("300", "300"), (run, result.stderr)
        assert all(total == "300" and left for _, total, left in ticks[:-1]), result.stderr


def test_a_long_stock_import_reports_rows_of_the_total(tmp_path):
    write_config(tmp_path, generate=0)
    skus = [f"SKU-{n:05d}" for n in range(2500)]
    (tmp_path / "products.csv").write_text(
        "sku,name,gtin,components\n" + "".join(f"{s},{s},,\n" for s in skus)
    )
    (tmp_path / "stock.csv").write_text("sku,quantity\n" + "".join(f"{s},3\n" for s in skus))
    assert erpsync("products", "import", "products.csv", cwd=tmp_path).returncode == 0
    result = erpsync(
        "stock", "import", "stock.csv", cwd=tmp_path, env={"ERPSYNC_PROGRESS_SECONDS": "0"}
    )
    assert result.returncode == 0, result.stderr
    assert "importing stock.csv: 1000 of 2500 rows (" in result.stderr
    assert "importing stock.csv: 2500 of 2500 rows (" in result.stderr
