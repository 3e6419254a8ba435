"""Reading ``Prefer: wait=S`` (RFC 7240): what counts, what is ignored, what is capped."""

from __future__ import annotations

import pytest

from nextshow.service.prefer import preferred_wait

CAP = 30


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], 0),
        (["wait=10"], 10),
        (["WAIT = 7"], 7),  # names are case-insensitive; spaces around "=" are allowed
        (['wait="12"'], 12),  # a quoted word
        (["respond-async, wait=5"], 5),
        (['return=minimal; foo="a,wait=1", wait=9'], 9),  # a comma inside quotes is not a split
        (["wait=4;x=y"], 4),  # parameters do not matter
        (["respond-async", "wait=3"], 3),  # several Prefer fields
        (["wait=2, wait=20"], 2),  # only the first wait counts
        (["wait=0"], 0),
        (["wait=30"], 30),
        (["wait=31"], CAP),  # longer than the server holds: capped
        (["wait=99999999999999999999"], CAP),
        (["wait=" + "9" * 5000], CAP),  # more digits than int() takes
        (["wait=abc"], 0),  # not delta-seconds: ignored
        (["wait=-1"], 0),
        (["wait=1.5"], 0),
        (["wait=+5"], 0),
        (["wait=١٢"], 0),  # digits, but not ASCII ones
        (["wait="], 0),
        (["wait"], 0),
        (["wait=abc, wait=5"], 0),  # the first wait decides, and it cannot be honoured
        (["waiting=5, nowait=5"], 0),
        ([""], 0),
    ],
)
def test_preferred_wait(headers, expected):
    assert preferred_wait(headers, CAP) == expected
