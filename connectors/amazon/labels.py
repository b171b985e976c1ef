"""Amazon shipping labels (``labels fetch``): what Amazon.com.br serves through the SP-API, and
the reason given for each merchant-fulfilled shipment when it serves nothing.

Amazon issues a label only for Easy Ship ("Delivery by Amazon", DBA, in Brazil: Amazon's carrier
collects the package), through the Easy Ship API v2022-03-23 and the Feeds API. What the
sources say (shared API notes §2.6 carries the full record):

- ``createScheduledPackage`` (``POST /easyShip/2022-03-23/package``) books the pickup and makes
  Amazon generate the label, but answers only the ``Package`` (slot, status, tracking id): no
  document. The documents then come from the ``POST_EASYSHIP_DOCUMENTS`` feed, whose feed-type
  page says "This feed is only available in the India and Singapore marketplaces" [C]
  (developer-docs.amazon.com/sp-api/docs/easy-ship-feed-type-values).
- ``createScheduledPackageBulk`` (``POST /easyShip/2022-03-23/packages/bulk``) books and answers
  a pre-signed ZIP of labels (``printableDocumentsUrl``), but the API reference lists it for
  Poland and the Netherlands only, and India sellers got "not available for the current
  marketplace" (amzn/selling-partner-api-models#5189, #4263) [R].
- The marketplace support table of the use case guide (which operations each marketplace
  has) could not be read; Amazon LATAM's integrator guide (pt-br-group.readme.io, "DBA caso
  de uso") says Brazilian DBA sellers schedule the pickup and reach the label through the
  Easy Ship API, without saying which call serves the document [U].

So no documented call serves an Easy Ship label document for Amazon.com.br, and scheduling a
pickup (a side effect the seller lives with: a carrier comes) only to be left without the label
is worse than not booking it. erpsync therefore books nothing and downloads nothing. What it
does is say, per merchant-fulfilled order, where the label comes from:

- an order not paid yet (Pending, PendingAvailability): asked again next run (Amazon shows
  whether an order is Easy Ship only once it is Unshipped: the LATAM FAQ says
  EasyShipShipmentStatus "não aparece para orders Pending" [R]);
- an open Easy Ship order (Unshipped, PartiallyShipped): Orders v0 ``getOrder`` reads its
  ``EasyShipShipmentStatus``; PendingSchedule (or LabelCanceled: the pickup was cancelled) is
  listed each run as waiting for the seller to schedule the pickup in Seller Central, a
  to-do list until it is scheduled; once scheduled (PendingPickUp, PendingDropOff) or past the
  handover it is listed once more, with where to print the label, and not asked again;
- a self-ship order: the seller's carrier prints the label; listed once, not asked again.

The Seller Central steps are Amazon's Brazilian help page's ("How to process Delivery by
Amazon orders", itemID 201383340): upload the NF-e, Schedule Pickup with the package's weight
and dimensions, pick a slot, print the label. Self-ship MFN orders travel with the seller's
own carrier: Amazon issues no label for them here (Merchant Fulfillment / Shipping v2 purchase
for Brazil is [U] in the notes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.connectors.amazon.orders import EASY_SHIP
from erpsync.domain import LabelRequest, LabelResult

#: the label formats Easy Ship knows (the model's LabelFormat: PDF, ZPL); declared so a
#: ``labels fetch --format zpl`` meant for another channel does not stop at Amazon
FORMATS = frozenset({"pdf", "zpl"})
#: OrderStatus before payment (ordersV0.json): Easy Ship or not is not known yet
NOT_PAID = frozenset({"Pending", "PendingAvailability"})
#: OrderStatus of an order still to be handed over
OPEN = frozenset({"Unshipped", "PartiallyShipped"})
#: EasyShipShipmentStatus (ordersV0.json) of a package whose pickup is still to be scheduled:
#: never scheduled, or the seller cancelled the scheduled one ("LabelCanceled")
TO_SCHEDULE = frozenset({"PendingSchedule", "LabelCanceled"})

NO_DOWNLOAD = (
    "Amazon serves no label download for Amazon.com.br through its API (the Easy Ship "
    "documents feed is India and Singapore only, the bulk scheduling ZIP Poland and the "
    "Netherlands only)"
)
EASY_SHIP_REASON = (
    "Easy Ship (Delivery by Amazon): " + NO_DOWNLOAD + "; schedule the pickup and print the "
    "label in Seller Central"
)
SELF_SHIP_REASON = "self-ship (MFN): Amazon issues no label for it; print your own carrier's label"


def needs_order(request: LabelRequest) -> bool:
    """Whether the answer needs Amazon's word (``getOrder``): an open Easy Ship order, whose
    pickup may or may not be scheduled by now."""
    return request.logistic_type == EASY_SHIP and request.status in OPEN


def label_result(request: LabelRequest, order: Mapping[str, Any] | None = None) -> LabelResult:
    """Amazon's answer for one shipment, from its stored state and, for an open Easy Ship
    order, the Orders v0 ``Order`` read now: never a label, a reason always."""
    ref = request.shipment_ref
    if request.status in NOT_PAID:
        return LabelResult(
            ref=ref,
            reason=f"the order is not paid yet ({request.status}); Amazon says whether it is "
            "Easy Ship (Amazon collects) or yours to ship once it is",
        )
    if request.logistic_type != EASY_SHIP:
        return LabelResult(ref=ref, reason=SELF_SHIP_REASON, never=True)
    if order is None:
        return LabelResult(ref=ref, reason=EASY_SHIP_REASON, never=True)
    state = str(order.get("OrderStatus") or "")
    easy = str(order.get("EasyShipShipmentStatus") or "")
    if state == "Canceled":
        return LabelResult(ref=ref, reason="the order is cancelled at Amazon", never=True)
    if easy in TO_SCHEDULE or (not easy and state in OPEN):
        return LabelResult(
            ref=ref,
            reason=f"Easy Ship pickup not scheduled ({easy or state}): once the NF-e is in "
            "(invoices push), schedule the pickup in Seller Central and print the label there; "
            + NO_DOWNLOAD,
        )
    return LabelResult(
        ref=ref,
        reason=f"Easy Ship package {easy or state}: print the label in Seller Central; "
        + NO_DOWNLOAD,
        never=True,
    )
