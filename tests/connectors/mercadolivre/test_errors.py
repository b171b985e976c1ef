"""Mercado Livre's error envelope -> the one line classify_error reports."""

from __future__ import annotations

from typing import Any

import pytest

from erpsync.connectors.mercadolivre import errors


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"message": "invalid_token", "error": "not_found", "status": 401, "cause": []},
            "invalid_token (not_found)",
        ),
        (
            {
                "message": "Validation error",
                "error": "validation_error",
                "status": 400,
                "cause": [
                    {"code": "item.available_quantity.invalid", "message": "must be >= 0"},
                    {"code": "item.variations.invalid"},
                ],
            },
            "Validation error (validation_error): must be >= 0; item.variations.invalid",
        ),
        ({"message": "local_rate_limited", "error": "local_rate_limited"}, "local_rate_limited"),
        ({"error": "not_found"}, "not_found"),
        ({}, None),
        (["not", "an", "envelope"], None),
    ],
)
def test_error_envelope_becomes_one_readable_line(body: Any, message: str | None) -> None:
    """requirement: ML's {message, error, status, cause[]} reads as one line."""
    assert errors.error_message(body) == message
