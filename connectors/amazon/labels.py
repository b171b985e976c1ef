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
is worse than not booking it. erpsync therefore books nothing and downloads nothing: each
merchant-fulfilled shipment is answered ``never`` with the reason, listed once by ``labels
fetch`` and recorded ``not_applicable``. The seller schedules the pickup and prints the label
in Seller Central (Delivery by Amazon: upload the NF-e, Schedule Pickup with the package's
weight and dimensions, print), as Amazon's Brazilian help page describes.

Self-ship MFN orders travel with the seller's own carrier: Amazon issues no label for them here
(Merchant Fulfillment / Shipping v2 purchase for Brazil is [U] in the notes).
"""

from __future__ import annotations

from erpsync.connectors.amazon.orders import EASY_SHIP
from erpsync.domain import LabelRequest, LabelResult

#: the label formats Easy Ship knows (the model's LabelFormat: PDF, ZPL); declared so a
#: ``labels fetch --format zpl`` meant for another channel does not stop at Amazon
FORMATS = frozenset({"pdf", "zpl"})

EASY_SHIP_REASON = (
    "Easy Ship (Delivery by Amazon): Amazon serves no label download for Amazon.com.br through "
    "its API (the Easy Ship documents feed is India and Singapore only, the bulk scheduling ZIP "
    "Poland and the Netherlands only); schedule the pickup and print the label in Seller Central"
)
SELF_SHIP_REASON = "self-ship (MFN): Amazon issues no label for it; print your own carrier's label"


def label_result(request: LabelRequest) -> LabelResult:
    """Amazon's answer for one shipment: never a label through the API, with the reason."""
    reason = EASY_SHIP_REASON if request.logistic_type == EASY_SHIP else SELF_SHIP_REASON
    return LabelResult(ref=request.shipment_ref, reason=reason, never=True)
