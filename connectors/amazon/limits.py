"""SP-API usage plans (rate, burst) per operation, shared by the connector and its emulator.

Each value is the "Usage Plan" table in the operation's description in the official models
(amzn/selling-partner-api-models), which developer-docs.amazon.com renders on each reference
page; Amazon applies one token bucket per operation and selling-partner/app pair
(ref: https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits).
"""

from __future__ import annotations

from collections.abc import Mapping

from erpsync.connector import RateLimit

USAGE_PLANS: Mapping[str, RateLimit] = {
    # models/orders-api-model/ordersV0.json: getOrders "0.0167 | 20" (one a minute)
    "getOrders": RateLimit(rate=0.0167, burst=20),
    # ordersV0.json: getOrder, getOrderItems "0.5 | 30"
    "getOrder": RateLimit(rate=0.5, burst=30),
    "getOrderItems": RateLimit(rate=0.5, burst=30),
    # models/tokens-api-model/tokens_2021-03-01.json: createRestrictedDataToken "1 | 10"
    "createRestrictedDataToken": RateLimit(rate=1, burst=10),
    # models/listings-items-api-model/listingsItems_2021-08-01.json (current): searchListingsItems
    # "5 | 5"; patchListingsItem "5 | 5" (older docs said 5 | 10); getListingsItem "5 | 10"
    "searchListingsItems": RateLimit(rate=5, burst=5),
    "patchListingsItem": RateLimit(rate=5, burst=5),
    "getListingsItem": RateLimit(rate=5, burst=10),
    # models/feeds-api-model/feeds_2021-06-30.json: createFeedDocument "0.5 | 15", createFeed
    # "0.0083 | 15", getFeed "2 | 15", getFeedDocument "0.0222 | 10"
    "createFeedDocument": RateLimit(rate=0.5, burst=15),
    "createFeed": RateLimit(rate=0.0083, burst=15),
    "getFeed": RateLimit(rate=2, burst=15),
    "getFeedDocument": RateLimit(rate=0.0222, burst=10),
}

#: pre-signed S3 document URLs (feed upload, report download) are not SP-API operations: no
#: documented plan; a generous local bucket only keeps a runaway loop polite
DOCUMENT_TRANSFER = RateLimit(rate=10, burst=10)
