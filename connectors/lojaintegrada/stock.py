"""Stock pushes to Loja Integrada: one `PUT /v1/produto_estoque/{produto_id}` per produto.

There is no batch write (the deprecated bulk read `/produto_estoque/set` was removed from
the current spec), and variations are child produtos, so each listing is one call. The body
is the one the spec and public clients send: `gerenciado` (stock is tracked), `quantidade`,
and the availability in days shown to buyers while in stock and when out of it
(`situacao_em_estoque` 0 = immediate, `situacao_sem_estoque` -1 = unavailable); the
answer echoes the stock row (`quantidade`, `quantidade_disponivel`, `quantidade_reservada`).
ref: API Loja Integrada v2, PUT /v1/produto_estoque/{produto_id}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.domain import StockUpdate


def body(update: StockUpdate, *, in_stock_days: int, out_of_stock_days: int) -> dict[str, Any]:
    return {
        "gerenciado": True,
        "quantidade": update.quantity,
        "situacao_em_estoque": in_stock_days,
        "situacao_sem_estoque": out_of_stock_days,
    }


def applied(update: StockUpdate, answer: Any) -> str | None:
    """None when the answer shows the quantity sent, else why we cannot tell it took."""
    if not isinstance(answer, Mapping) or "quantidade" not in answer:
        return None  # an empty 200/202: trusted, as the API documents no body for some versions
    try:
        shown = int(str(answer["quantidade"]).split(".")[0])
    except ValueError:
        return f"answer quantidade {answer['quantidade']!r} is not a number"
    if shown != update.quantity:
        return f"sent {update.quantity}, Loja Integrada shows {shown}"
    return None
