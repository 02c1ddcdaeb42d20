"""Per-token request rate: a token bucket for each token, in this process.

With several API processes each keeps its own buckets, so a token's allowance is the setting
times the processes behind the load balancer (README: Limits).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from medialib.errors import TooManyRequests


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimits:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> None:
        """Spend one request of `key`'s allowance, or raise TooManyRequests with Retry-After."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return
        wait = (1 - bucket.tokens) / self.rate
        raise TooManyRequests(
            f"This token may make {self.rate:g} requests per second "
            f"(bursts of {self.burst}); try again in {wait:.1f} s.",
            retry_after=wait,
        )
