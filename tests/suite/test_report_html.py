"""The HTML report (support/report_html.py) on made-up results: every key shown, broken rules first,
the results' text escaped, and the verdict of a clean, a failed, a partial and a misconfigured run.

The page is read back with the standard library's HTML parser, so the tests judge what a browser
would see (text and elements), not the way the markup is spelled."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from contract.support.report_html import write_report

NASTY = "<script>alert('x')</script> & \"quoted\""


def results(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "target": "http://127.0.0.1:18734",
        "profile": "smoke",
        "seconds": 93.25,
        "requests": 1234,
        "retries": 7,
        "partial": False,
        "partial_reason": None,
        "tests": {"passed": 201, "failed": 1, "errors": 2, "deselected": 3},
        "rules": [
            {"name": "a_held_rule", "statement": "A held rule's statement.", "checks": 42, "broken": False, "failures": []},
            {
                "name": "z_broken_rule",
                "statement": "A broken rule's statement.",
                "checks": 5,
                "broken": True,
                "failures": [
                    {
                        "test": "tests/contract/test_x.py::test_y[action]",
                        "message": "count off by one",
                        "exchange": "POST http://127.0.0.1:18734/v2/action/index\n200 OK\n[]",
                        "curl": "curl -sS -i -X POST 'http://127.0.0.1:18734/v2/action/index' -H 'Authorization: Bearer $TOKEN'",
                    }
                ],
            },
            {"name": "m_unexercised_rule", "statement": "Nobody checked me.", "checks": 0, "broken": False, "failures": []},
        ],
        "failed_tests": [{"test": "tests/contract/test_x.py::test_y[action]", "rules": ["z_broken_rule"], "reason": "count off by one"}],
        "deselected_reasons": ["4 contract tests marked `whole_dataset` were deselected: run them with -m whole_dataset"],
        "configuration_errors": [],
    }
    base.update(changes)
    return base


class Page(HTMLParser):
    """The text of the page, the text inside each element with a class, and the tags used."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.by_class: dict[str, list[str]] = {}
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._open: list[tuple[str, list[str]]] = []
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("meta", "br", "hr", "img", "link", "input"):
            return
        classes = (dict(attrs).get("class") or "").split()
        self._open.append((tag, classes))
        for name in classes:
            self.by_class.setdefault(name, []).append("")

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for _, classes in self._open:
            for name in classes:
                self.by_class[name][-1] += data

    def all_text(self) -> str:
        return "".join(self.text)


def written(tmp_path: Path, data: dict[str, Any]) -> tuple[str, Page]:
    path = tmp_path / "report" / "index.html"
    write_report(copy.deepcopy(data), path)
    source = path.read_text(encoding="utf-8")
    return source, Page(source)


def test_every_key_of_the_results_is_shown(tmp_path: Path) -> None:
    data = results()
    _, page = written(tmp_path, data)
    text = page.all_text()
    for shown in ("http://127.0.0.1:18734", "smoke", "1,234", "93.2 s", "201 passed", "1 failed", "2 errors", "3 deselected"):
        assert shown in text, shown
    assert "Retries" in text and "7" in page.by_class["figures"][0]
    for rule in data["rules"]:
        assert rule["name"] in text and rule["statement"] in text
    assert "42" in text
    failure = data["rules"][1]["failures"][0]
    for key in ("test", "message", "exchange", "curl"):
        assert failure[key] in text, key
    assert data["failed_tests"][0]["reason"] in page.by_class["failed-tests"][0]
    assert data["deselected_reasons"][0] in page.by_class["deselected"][0]


def test_the_page_needs_nothing_from_outside(tmp_path: Path) -> None:
    source, page = written(tmp_path, results())
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert "style" in tags
    urls = [value for _, attrs in page.tags for name, value in attrs.items() if name in ("src", "href")]
    assert urls == []
    assert "url(" not in source and "@import" not in source


def test_broken_rules_come_before_held_and_unexercised_ones(tmp_path: Path) -> None:
    _, page = written(tmp_path, results())
    text = page.all_text()
    assert text.index("z_broken_rule") < text.index("a_held_rule") < text.index("m_unexercised_rule")
    assert "z_broken_rule" in page.by_class["broken"][0] and "BROKEN" in page.by_class["broken"][0]
    assert "a_held_rule" in page.by_class["held"][0]
    assert "m_unexercised_rule" in page.by_class["unexercised"][0]
    assert "count off by one" in page.by_class["failures"][0]
    assert page.by_class["curl"][0].startswith("curl -sS -i -X POST")


def test_html_in_messages_and_exchanges_is_shown_as_text(tmp_path: Path) -> None:
    data = results(target=f"http://h/{NASTY}", deselected_reasons=[NASTY], configuration_errors=[])
    data["rules"][1]["statement"] = NASTY
    data["rules"][1]["failures"][0].update(test=NASTY, message=NASTY, exchange=f"200 OK\n{NASTY}", curl=f"curl '{NASTY}'")
    data["rules"][1]["name"] = f"rule{NASTY}"
    data["failed_tests"][0].update(test=NASTY, reason=NASTY, rules=[NASTY])
    source, page = written(tmp_path, data)
    assert "<script>" not in source
    assert [tag for tag, _ in page.tags if tag == "script"] == []
    text = page.all_text()
    assert text.count(NASTY) >= 9  # target (twice: heading, figures), name, statement, test, message, exchange, curl, ...
    assert page.by_class["exchange"][0] == f"200 OK\n{NASTY}"
    assert page.by_class["curl"][0] == f"curl '{NASTY}'"
    ids = [attrs.get("id") for _, attrs in page.tags if attrs.get("id", "") and "rule" in str(attrs.get("id"))]
    assert f"rule-rule{NASTY}" in ids  # an attribute value, escaped and read back whole


def test_a_run_without_failures_is_green(tmp_path: Path) -> None:
    data = results(tests={"passed": 210, "failed": 0, "errors": 0, "deselected": 0}, failed_tests=[], deselected_reasons=[])
    data["rules"] = [rule for rule in data["rules"] if not rule["broken"]]
    _, page = written(tmp_path, data)
    assert page.by_class["green"][0].startswith("Green")
    assert "red" not in page.by_class and "broken" not in page.by_class
    assert "Failed tests" not in page.all_text() and "Deselected tests" not in page.all_text()


def test_a_failed_run_is_red(tmp_path: Path) -> None:
    _, page = written(tmp_path, results())
    assert page.by_class["red"][0] == "RED: 3 tests failed, 1 rule broken"


def test_a_broken_rule_without_a_failed_test_is_still_red(tmp_path: Path) -> None:
    _, page = written(tmp_path, results(tests={"passed": 5, "failed": 0, "errors": 0, "deselected": 0}, failed_tests=[]))
    assert page.by_class["red"][0].startswith("RED: 0 tests failed, 1 rule broken")


def test_a_partial_run_says_so_and_why(tmp_path: Path) -> None:
    clean = results(tests={"passed": 12, "failed": 0, "errors": 0, "deselected": 0}, failed_tests=[], partial=True,
                    partial_reason="target unavailable: 5 tries of POST /v2/action/index")
    clean["rules"] = [rule for rule in clean["rules"] if not rule["broken"]]
    _, page = written(tmp_path, clean)
    assert page.by_class["partial"][0].startswith("Partial: target unavailable: 5 tries")
    assert "green" not in page.by_class
    _, failed = written(tmp_path, results(partial=True, partial_reason="stopped after the first failure (-x)"))
    assert failed.by_class["red"][0] == "RED: 3 tests failed, 1 rule broken (partial run: stopped after the first failure (-x))"


def test_a_configuration_error_wins_over_every_other_verdict(tmp_path: Path) -> None:
    error = "the target refuses the token of --token / CONTRACT_TOKEN: POST http://h/v2/action/index answered 401"
    data = results(configuration_errors=[error], rules=[], failed_tests=[], partial=True, partial_reason="stopped",
                   tests={"passed": 0, "failed": 1, "errors": 0, "deselected": 0})
    _, page = written(tmp_path, data)
    assert page.by_class["configuration"][0] == f"Configuration error: {error}"
    assert error in page.by_class["configuration-errors"][0]
    assert "Rules (0 broken, 0 held, 0 not exercised)" in page.all_text()
