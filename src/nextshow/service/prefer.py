"""The ``wait`` preference of RFC 7240 (``Prefer: wait=10``): how long a client will wait.

A server ignores a preference it cannot honour (RFC 7240, section 2), so nothing here is an
error: a malformed ``wait`` (``wait=abc``, ``wait=-1``, ``wait=1.5``: the RFC's value is
delta-seconds, digits only) counts as no preference, and one longer than the server's cap
counts as the cap. Only the first ``wait`` counts when a client sends several (section 2).
"""

from __future__ import annotations

from collections.abc import Iterable

# More digits than this is more than any cap (and int() of thousands of digits is refused).
_MAX_DIGITS = 9


def _elements(header: str) -> Iterable[str]:
    """The comma-separated preferences of one header, commas inside quoted strings kept."""
    start, quoted, escaped = 0, False, False
    for i, char in enumerate(header):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            yield header[start:i]
            start = i + 1
    yield header[start:]


def preferred_wait(headers: Iterable[str], cap: int) -> int:
    """Seconds the client prefers to wait (``Prefer: wait=S``), at most ``cap``; 0 for none.

    ``headers`` are the values of every ``Prefer`` field of the request, in order.
    """
    for header in headers:
        for element in _elements(header):
            # A preference is ``token [= word] *(; parameter)``; the parameters do not matter.
            name, _, value = element.split(";", 1)[0].partition("=")
            if name.strip().lower() != "wait":
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            if not (value.isascii() and value.isdigit()):
                return 0  # the first wait decides, and this one cannot be honoured
            return cap if len(value) > _MAX_DIGITS else min(int(value), cap)
    return 0
