"""Comparing a secret someone sent with ours, safely for any input.

Constant time (no timing hint about how much matched), and total: whatever a client
puts in a header or a JSON string (non-ASCII, lone surrogates, NUL) is just "wrong",
never an exception that becomes a 500 or drops the connection.
"""

from __future__ import annotations

import hmac


def tokens_match(given: str, expected: str) -> bool:
    return hmac.compare_digest(_bytes(given), _bytes(expected))


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass") if isinstance(text, str) else b""
