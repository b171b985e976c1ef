"""The JSON_LISTINGS_FEED round trip (Feeds 2021-06-30): create a document, upload it to its
pre-signed URL, create the feed, poll getFeed, download the processing report.

The I/O of a feed push, through the connector's ``request`` (buckets, retries, redaction);
what goes in the document and how the report reads are in stock.py.
ref: https://developer-docs.amazon.com/sp-api/docs/feeds-api-v2021-06-30-use-case-guide
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from erpsync.connectors.amazon.stock import FEED_CONTENT_TYPE, FEED_TYPE, FINAL_FEED_STATES

if TYPE_CHECKING:
    from erpsync.connectors.amazon.connector import AmazonConnector

log = logging.getLogger("erpsync.connectors.amazon")


def submit(connector: AmazonConnector, document: dict[str, Any]) -> str:
    """Upload ``document`` and create the feed; its feedId."""
    created = connector.request(
        "POST",
        "/feeds/2021-06-30/documents",
        operation="createFeedDocument",
        json={"contentType": FEED_CONTENT_TYPE},
    ).json()
    # the pre-signed S3 URL takes no SP-API token (auth=None: this request only)
    connector.request(
        "PUT",
        created["url"],
        operation="documentTransfer",
        auth=None,
        expect_json=False,
        content=json.dumps(document).encode(),
        headers={"Content-Type": FEED_CONTENT_TYPE},
    )
    spec = {
        "feedType": FEED_TYPE,
        "marketplaceIds": [connector.options.marketplace_id],
        "inputFeedDocumentId": created["feedDocumentId"],
    }
    answer = connector.request("POST", "/feeds/2021-06-30/feeds", operation="createFeed", json=spec)
    feed_id = str(answer.json()["feedId"])
    log.info("%s: feed %s submitted (%d SKUs)", connector.name, feed_id, len(document["messages"]))
    return feed_id


def wait(connector: AmazonConnector, feed_id: str) -> dict[str, Any] | None:
    """getFeed until DONE/FATAL/CANCELLED, at most ``feed_max_polls`` times; None if still
    processing then."""
    options = connector.options
    sleep = connector.context.sleep or time.sleep
    for poll in range(options.feed_max_polls):
        if poll:
            sleep(options.feed_poll_seconds)
        feed: dict[str, Any] = connector.request(
            "GET", f"/feeds/2021-06-30/feeds/{feed_id}", operation="getFeed"
        ).json()
        if feed.get("processingStatus") in FINAL_FEED_STATES:
            return feed
    log.warning("%s: feed %s still processing; pushes stay pending", connector.name, feed_id)
    return None


def report(connector: AmazonConnector, feed: dict[str, Any] | None) -> dict[str, Any]:
    """The feed's processing report ({} when there is none): getFeedDocument, then the (maybe
    GZIP) document from its pre-signed URL."""
    if feed is None or not feed.get("resultFeedDocumentId"):
        return {}
    document_id = str(feed["resultFeedDocumentId"])
    info = connector.request(
        "GET", f"/feeds/2021-06-30/documents/{document_id}", operation="getFeedDocument"
    ).json()
    raw = connector.request(
        "GET", info["url"], operation="documentTransfer", auth=None, expect_json=False
    ).content
    if info.get("compressionAlgorithm") == "GZIP":
        raw = gzip.decompress(raw)
    found: dict[str, Any] = json.loads(raw)
    return found
