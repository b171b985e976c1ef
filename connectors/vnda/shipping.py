"""Tracking codes to Vnda: the pure parts.

A tracking code belongs to a package of the order:
`POST /api/v2/orders/{order_code}/packages/{package_code}/trackings` with `{code, company, url}`
(`code` required), answered with the tracking; 404 `{"error": "not found"}` when the order or
package does not exist (ref: developers.vnda.com.br/api/orders/operations/
post-api-v2-orders-order-code-packages-package_code-trackings). The package's trackings are read
back with GET on the same path [R: the path is listed with the packages API; its answer shape
is taken to be the POST's, a list of them].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from erpsync.domain import TrackingUpdate


def body(update: TrackingUpdate) -> dict[str, Any]:
    sent: dict[str, Any] = {"code": update.tracking_code}
    if update.carrier:
        sent["company"] = update.carrier
    if update.tracking_url:
        sent["url"] = update.tracking_url
    return sent


def package_for(packages: Sequence[Mapping[str, Any]]) -> str | None:
    """The order's only package; None when it has none or several (erpsync's tracking names
    no package)."""
    codes = [str(p.get("code")) for p in packages if isinstance(p, Mapping) and p.get("code")]
    return codes[0] if len(codes) == 1 else None


def held(trackings: Any, code: str) -> bool:
    """The package already carries this tracking code (a replay)."""
    return any(
        isinstance(t, Mapping) and str(t.get("code") or "").strip() == code
        for t in (trackings if isinstance(trackings, list) else [])
    )
