"""The Prism step's recorder sends past Prism only what Prism cannot name in a header: a
query parameter of characters beyond U+00FF (seen in CI: Prism 5.14.2 stopped with "Invalid
character in header content" on a fuzzed query of the state machine)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("violations_recorder", Path(__file__).with_name("violations_recorder.py"))
assert spec is not None and spec.loader is not None
recorder = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recorder)

SEEN_IN_CI = b"%C2%BB%F1%92%85%8D%08%7D%05x%1FV%C2%93%F3%A5%BF%9C=-2.0675653207428224e%2B16"


@pytest.mark.parametrize(
    ("path", "query", "bypassed"),
    [
        (b"/v2/action-subscription/create", SEEN_IN_CI, True),
        (b"/v2/action/view/%E2%82%AC", b"", True),  # a euro sign in the path
        (b"/v2/action/index", b"per-page=5&sort=-name", False),
        (b"/v2/action/index", b"q=%C3%A9t%C3%A9%00%1F", False),  # Latin-1 and control characters: Prism copes
        (b"/v2/action/index", b"q=%FF%FE", True),  # not UTF-8: read as U+FFFD, which no header holds either
    ],
)
def test_requests_prism_cannot_name_go_past_it(path: bytes, query: bytes, bypassed: bool) -> None:
    assert recorder.prism_cannot_name(path, query) is bypassed
