"""Per-job webhook addresses.

Each task-creating request carries `<WEBHOOK_PUBLIC_URL>/webhook/<job id>/<token>`. The job id
is known before the request leaves (the job row is written first), so even a submit cut off by
a crash, whose task id was never recorded, can be found again by its webhook. The token is an
HMAC of the job id under a key kept in the database: unguessable, different for every job,
checkable by any process without a lookup, and nothing to store per job.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

TOKEN_HEX = 32  # 128 bits
ROUTE = "webhook"


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """What one task-creating request carries (`webhook_url`, `webhook_secret`)."""

    url: str
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Addresses:
    public_url: str  # WEBHOOK_PUBLIC_URL, without a trailing slash
    secret: str = field(repr=False)  # what MusicAPI signs with
    token_key: bytes = field(repr=False)  # derives the per-job tokens

    def token(self, job_id: int) -> str:
        mac = hmac.new(self.token_key, f"job:{job_id}".encode(), hashlib.sha256)
        return mac.hexdigest()[:TOKEN_HEX]

    def token_matches(self, job_id: int, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.token(job_id).encode())

    def for_job(self, job_id: int) -> WebhookTarget:
        url = f"{self.public_url}/{ROUTE}/{job_id}/{self.token(job_id)}"
        return WebhookTarget(url, self.secret)
