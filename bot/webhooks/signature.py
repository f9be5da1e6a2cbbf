"""The two documented webhook signature schemes (docs/musicapi/protocol.md §5,
docs/musicapi/open-questions.md F.30).

- newer: `X-Webhook-Signature: sha256=<hex>` over `"<X-Webhook-Timestamp>.<raw body>"`, with
  `X-Webhook-Id` (also sent as `Idempotency-Key`) naming the event;
- older: `X-Signature: <hex>` over the raw body only, with neither a timestamp nor an id.

Both are HMAC-SHA256 keyed with the `webhook_secret` the bot sent with the task. They are
computed over the raw bytes before any JSON parsing and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

# Further off than this (either way) and a timestamp is refused: a replay or a broken clock.
MAX_SKEW_S = 300.0


class Refusal(StrEnum):
    """Why a delivery is not believed."""

    UNSIGNED = "no signature header"
    BAD_SIGNATURE = "signature does not match"
    BAD_TIMESTAMP = "timestamp missing or not a number"
    STALE = "timestamp more than 5 minutes old"
    FUTURE = "timestamp more than 5 minutes ahead"


@dataclass(frozen=True, slots=True)
class Verified:
    scheme: str  # "v2" (timestamped) or "v1" (body only)
    delivery_id: str | None  # X-Webhook-Id; None in the older scheme
    timestamp: float | None


class SignatureError(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


def sign_v2(secret: str, timestamp: str, body: bytes) -> str:
    """The newer scheme's header value."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def sign_v1(secret: str, body: bytes) -> str:
    """The older scheme's header value."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _same(provided: str, expected: str) -> bool:
    # compare_digest on bytes: constant time for equal lengths, and a wrong length gives
    # nothing useful away (the length of a SHA-256 hex digest is public anyway).
    return hmac.compare_digest(provided.strip().lower().encode(), expected.encode())


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: float) -> Verified:
    """Check a delivery; raise SignatureError saying why it is not believed."""
    provided = headers.get("X-Webhook-Signature")
    if provided is not None:
        raw_ts = headers.get("X-Webhook-Timestamp", "")
        try:
            timestamp = float(raw_ts)
        except ValueError:
            raise SignatureError(Refusal.BAD_TIMESTAMP) from None
        if timestamp != timestamp:  # NaN
            raise SignatureError(Refusal.BAD_TIMESTAMP)
        # The signature first: the age of a forged request is nobody's business.
        if not _same(provided, sign_v2(secret, raw_ts, body)):
            raise SignatureError(Refusal.BAD_SIGNATURE)
        if timestamp < now - MAX_SKEW_S:
            raise SignatureError(Refusal.STALE)
        if timestamp > now + MAX_SKEW_S:
            raise SignatureError(Refusal.FUTURE)
        delivery_id = headers.get("X-Webhook-Id") or headers.get("Idempotency-Key")
        return Verified("v2", delivery_id or None, timestamp)
    provided = headers.get("X-Signature")
    if provided is not None:
        if not _same(provided.removeprefix("sha256="), sign_v1(secret, body)):
            raise SignatureError(Refusal.BAD_SIGNATURE)
        return Verified("v1", None, None)
    raise SignatureError(Refusal.UNSIGNED)
