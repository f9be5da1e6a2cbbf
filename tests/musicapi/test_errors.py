"""Error classification and text extraction, driven by the documented catalogues."""

from __future__ import annotations

import pytest

from bot.musicapi.errors import (
    AuthError,
    GoneError,
    InsufficientCreditsError,
    MalformedResponseError,
    ModerationError,
    MusicAPIError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    UpstreamValidationError,
    error_for_status,
    extract_error_text,
    parse_offending,
)

from .fixtures import load_example


def _expected_class(status: int, message: str) -> type[MusicAPIError]:
    if status == 401:
        return AuthError
    if status == 403:
        lowered = message.lower()
        if "credit" in lowered or "subscription" in lowered:
            return InsufficientCreditsError
        return ModerationError
    if status == 400:
        return (
            NotFoundError
            if message in ("task not found.", "missing task id.")
            else (UpstreamValidationError)
        )
    return ServerError  # 500 and 504 (a 504 on a *poll* is handled by the client)


SONIC_CATALOG = load_example("error-catalog-sonic")["body"]


@pytest.mark.parametrize("entry", SONIC_CATALOG, ids=lambda e: f"{e['http_status']}-{e['message']}")
def test_sonic_catalog_maps_to_the_right_class(entry: dict[str, object]) -> None:
    status, message = int(entry["http_status"]), str(entry["message"])  # type: ignore[call-overload]
    error = error_for_status(status, message, request_id="rid-1")
    assert type(error) is _expected_class(status, message)
    assert str(error) == message
    assert error.status == status
    assert error.request_id == "rid-1"


@pytest.mark.parametrize(
    ("message", "offending"),
    [
        ("The lyrics contain inappropriate content: 'xyz'.", "xyz"),
        ("The lyrics contain copyrighted content: 'la la'. Please use original lyrics.", "la la"),
        (
            "The song description contains artist names: 'Some Star' which is not allowed.",
            "Some Star",
        ),
        (
            "The song description contains producer tags: 'Metro' which is not allowed.",
            "Metro",
        ),
        ("The song description needs moderation review.", None),
        ("The lyrics format is invalid. Please check and try again.", None),
    ],
)
def test_moderation_offending_text(message: str, offending: str | None) -> None:
    error = error_for_status(403, message)
    assert isinstance(error, ModerationError)
    assert error.offending == offending
    assert parse_offending(message) == offending


@pytest.mark.parametrize(
    ("status", "message", "cls"),
    [
        (402, "Payment required", InsufficientCreditsError),
        (403, "You do not have an active subscription.", InsufficientCreditsError),
        (404, "task not found.", NotFoundError),
        (400, "Task not found.", NotFoundError),
        (410, "gone", GoneError),
        (422, "Unprocessable", UpstreamValidationError),
        (429, "Too many requests.", RateLimitedError),
        # Sister docs use 429 for "out of credits": waiting will not help, so not a rate limit.
        (429, "Your credits are not enough.", InsufficientCreditsError),
        (500, "Internal Server Error.", ServerError),
        (503, "unavailable", ServerError),
        (418, "teapot", MusicAPIError),
    ],
)
def test_status_mapping(status: int, message: str, cls: type[MusicAPIError]) -> None:
    error = error_for_status(status, message, retry_after=2.0)
    assert type(error) is cls
    assert str(error) == message


def test_retryable_flags() -> None:
    assert error_for_status(429, "slow down", retry_after=1.5).retryable is True
    assert error_for_status(429, "slow down", retry_after=1.5).retry_after == 1.5  # type: ignore[attr-defined]
    assert error_for_status(502, "bad gateway").retryable is True
    assert RequestTimeoutError("t").retryable is True
    for status in (400, 401, 402, 403, 404, 410, 418):
        assert error_for_status(status, "x").retryable is False, status
    assert MalformedResponseError("m").retryable is False
    # An instance may override its class default.
    assert ServerError("x", retryable=False).retryable is False


@pytest.mark.parametrize("variant", load_example("error-envelope-variants")["body"])
def test_every_documented_envelope_yields_the_text(variant: dict[str, object]) -> None:
    assert extract_error_text(variant, 400) == "<text>"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "first", "error": "second", "detail": "third"}, "first"),
        ({"error": "second", "detail": "third"}, "second"),
        ({"detail": "third"}, "third"),
        ({"message": "", "error": "second"}, "second"),
        ({"message": 12, "detail": "third"}, "third"),
        ({"type": "api_error", "description": "Algorithm error"}, "Algorithm error"),
        ({}, "MusicAPI request failed (HTTP 500)."),
        (None, "MusicAPI request failed (HTTP 500)."),
        ("Internal Server Error.", "Internal Server Error."),
        ("<html><body>502 Bad Gateway</body></html>", "MusicAPI request failed (HTTP 500)."),
        ("x" * 301, "MusicAPI request failed (HTTP 500)."),
    ],
)
def test_extract_error_text_order_and_fallbacks(body: object, expected: str) -> None:
    assert extract_error_text(body, 500) == expected


@pytest.mark.parametrize("entry", load_example("error-catalog-nuro")["body"])
def test_nuro_catalog_text_is_read_from_description(entry: dict[str, object]) -> None:
    body = {"type": entry["type"], "description": entry["description"]}
    assert extract_error_text(body, int(entry["http_status"])) == entry["description"]  # type: ignore[call-overload]


def test_str_and_repr_show_the_message_and_ids() -> None:
    error = ModerationError("bad 'x'", status=403, request_id="abc", offending="x")
    assert str(error) == "bad 'x'"
    assert "ModerationError" in repr(error)
    assert "abc" in repr(error)
    assert isinstance(error, MusicAPIError)


_NURO_CLASSES: dict[str, type[MusicAPIError]] = {
    "API system error, please contact administrator": ServerError,
    "Invalid signature": AuthError,
    "Authorization expired": AuthError,
    # The account's quota: waiting will not help, like running out of credits.
    "API usage limit exceeded": InsufficientCreditsError,
    # Throttling, not a content refusal: retried with backoff.
    "API QPS limit exceeded": RateLimitedError,
    "Queue is full": RateLimitedError,
    "Algorithm error": ServerError,
    "Task not found": NotFoundError,
    "Input language not supported": UpstreamValidationError,
    "Semantic error, please try again": ServerError,
}


@pytest.mark.parametrize(
    "entry", load_example("error-catalog-nuro")["body"], ids=lambda e: str(e["description"])
)
def test_nuro_catalog_maps_to_classes_and_refund_types(entry: dict[str, object]) -> None:
    status, kind, text = int(entry["http_status"]), str(entry["type"]), str(entry["description"])  # type: ignore[call-overload]
    error = error_for_status(status, text, error_type=kind)
    assert type(error) is _NURO_CLASSES[text]
    assert error.error_type == kind and str(error) == text
    # docs/musicapi/protocol.md §10.2: refunds are triggered by api_error, timeout, bad_request and
    # forbidden.
    assert error.refund_implied is (kind in ("api_error", "timeout", "bad_request", "forbidden"))
    assert error.retryable is (type(error) in (ServerError, RateLimitedError))


def test_error_type_defaults_to_none() -> None:
    error = error_for_status(400, "The title character length should be less than 80.")
    assert error.error_type is None and not error.refund_implied
