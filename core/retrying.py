"""Bounded exponential backoff: how long to wait before attempt ``n`` (0-based)."""


def backoff_delay(attempt: int, base_s: float, max_s: float, retry_after_s: float | None) -> float:
    """``base * 2**attempt`` capped at ``max_s``; a server's Retry-After (429) wins when
    it asks for longer. Jitter-free on purpose: callers are one per partition."""
    delay = min(max_s, base_s * (2**attempt))
    return float(max(delay, retry_after_s)) if retry_after_s is not None else float(delay)
