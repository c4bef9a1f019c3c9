"""The run's results as one HTML page a person reads: the verdict, the figures, the rules (broken
first, with each failure's exchange and curl line), the held ones, those not exercised, and why
tests were deselected.

One self-contained file: inline CSS, no script, no external URL, so it opens from disk, from a CI
artifact or in a mail, and prints. Escaping: the standard library's `html.escape`, in one place
(`_text`), because no package the suite runs on (pytest, Hypothesis, Schemathesis) brings a
template engine; Jinja2 would be a dependency of the suite for this file alone. Every value of the
results goes into the page through `_element`, which escapes text and attribute values alike;
only what `_element` built (`Html`) passes unescaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

# The verdicts, in the order they win: a configuration error says the target was not (fully)
# judged; RED that something failed; partial that the run stopped early or left tests out.
CONFIGURATION = "configuration"
RED = "red"
PARTIAL = "partial"
GREEN = "green"

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #d0d7de; }
.verdict { font-size: 1.3rem; font-weight: 700; padding: .6rem 1rem; border: 3px solid; border-radius: 6px; }
.verdict.green { color: #0a5d1e; background: #dafbe1; border-color: #1a7f37; }
.verdict.red { color: #82071e; background: #ffebe9; border-color: #cf222e; }
.verdict.partial { color: #6a4a00; background: #fff8c5; border-color: #bf8700; }
.verdict.configuration { color: #5e2a00; background: #fff1e5; border-color: #bc4c00; }
dl.figures { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1.5rem; }
dl.figures dt { font-weight: 600; }
dl.figures dd { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid #d0d7de; }
thead { display: table-header-group; }
td.checks { text-align: right; white-space: nowrap; }
td.status { font-weight: 700; white-space: nowrap; }
tr.broken td.status { color: #cf222e; }
tr.broken { background: #ffebe9; }
tr.held td.status { color: #1a7f37; }
tr.unexercised td.status { color: #6e7781; }
tr.failures > td { background: #fff; padding-left: 2rem; }
.failure { border-left: 4px solid #cf222e; padding: .2rem 0 .2rem .8rem; margin: .6rem 0; }
.failure .message { font-weight: 600; }
pre { white-space: pre-wrap; word-break: break-all; background: #f6f8fa; border: 1px solid #d0d7de;
      padding: .5rem; font: 12.5px/1.4 ui-monospace, monospace; margin: .3rem 0; }
pre.curl { user-select: all; background: #eef6ff; }
code { font: 13px ui-monospace, monospace; }
ul.reasons li { margin: .2rem 0; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  tr, .failure, pre { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""


class Html(str):
    """Markup built by `_element`: inserted as it is, never escaped again."""


def _text(value: Any) -> Html:
    """The one place the page escapes: every value of the results passes here on its way in."""
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def _element(tag: str, *children: Any, **attributes: Any) -> Html:
    """`<tag attr="...">children</tag>`; text children and attribute values are escaped. A
    trailing underscore is dropped from an attribute's name (`class_`)."""
    attrs = "".join(f' {name.rstrip("_")}="{_text(value)}"' for name, value in attributes.items() if value is not None)
    return Html(f"<{tag}{attrs}>{''.join(_text(child) for child in children)}</{tag}>")


def _join(parts: Iterable[Html]) -> Html:
    return Html("".join(parts))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def verdict(results: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, sentence) of the run: configuration error, RED, partial or green."""
    tests = results.get("tests", {})
    failed = int(tests.get("failed", 0)) + int(tests.get("errors", 0))
    broken = [rule["name"] for rule in results.get("rules", []) if rule.get("broken")]
    partial = f" (partial run: {results.get('partial_reason') or 'stopped before its end'})" if results.get("partial") else ""
    errors = results.get("configuration_errors") or []
    if errors:
        return CONFIGURATION, f"Configuration error: {errors[0]}"
    if failed or broken:
        return RED, f"RED: {_count(failed, 'test')} failed, {_count(len(broken), 'rule')} broken{partial}"
    if results.get("partial"):
        return PARTIAL, f"Partial: {results.get('partial_reason') or 'the run stopped before its end'}; no test failed so far"
    return GREEN, "Green: no test failed, no rule broken"


def _figures(results: Mapping[str, Any]) -> Html:
    tests = results.get("tests", {})
    seconds = float(results.get("seconds", 0.0))
    rows = [
        ("Target", results.get("target")),
        ("Profile", results.get("profile")),
        ("Requests", f"{int(results.get('requests', 0)):,}"),
        ("Retries", f"{int(results.get('retries', 0)):,}"),
        ("Time", f"{seconds:.1f} s ({seconds / 60:.1f} min)"),
        (
            "Tests",
            f"{tests.get('passed', 0)} passed, {tests.get('failed', 0)} failed, "
            f"{tests.get('errors', 0)} errors, {tests.get('deselected', 0)} deselected",
        ),
    ]
    if results.get("partial"):
        rows.append(("Partial", results.get("partial_reason") or "the run stopped before its end"))
    return _element("dl", *(_join([_element("dt", name), _element("dd", value)]) for name, value in rows), class_="figures")


def _failure(failure: Mapping[str, Any]) -> Html:
    parts = [
        _element("div", "Test: ", _element("code", failure.get("test"))),
        _element("div", failure.get("message"), class_="message"),
    ]
    if failure.get("exchange"):
        parts.append(_element("pre", failure["exchange"], class_="exchange"))
    if failure.get("curl"):
        parts.append(_element("div", "Reproduce (with TOKEN set):"))
        parts.append(_element("pre", failure["curl"], class_="curl"))
    return _element("div", *parts, class_="failure")


def _rule_row(rule: Mapping[str, Any], status: str, kind: str) -> Html:
    return _element(
        "tr",
        _element("td", status, class_="status"),
        _element("td", _element("code", rule.get("name"))),
        _element("td", rule.get("statement")),
        _element("td", rule.get("checks", 0), class_="checks"),
        class_=kind,
        id=f"rule-{rule.get('name')}",
    )


def order_rules(rules: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """(broken, held, not exercised), each by name."""
    by_name = sorted(rules, key=lambda rule: str(rule.get("name")))
    broken = [rule for rule in by_name if rule.get("broken")]
    held = [rule for rule in by_name if not rule.get("broken") and int(rule.get("checks", 0)) > 0]
    unexercised = [rule for rule in by_name if not rule.get("broken") and int(rule.get("checks", 0)) == 0]
    return broken, held, unexercised


def _rules_table(rules: Sequence[Mapping[str, Any]]) -> Html:
    broken, held, unexercised = order_rules(rules)
    rows: list[Html] = []
    for rule in broken:
        rows.append(_rule_row(rule, "BROKEN", "broken"))
        failures = rule.get("failures") or []
        if failures:
            rows.append(_element("tr", _element("td", *(_failure(f) for f in failures), colspan=4), class_="failures"))
    rows += [_rule_row(rule, "held", "held") for rule in held]
    rows += [_rule_row(rule, "not exercised", "unexercised") for rule in unexercised]
    head = _element("thead", _element("tr", *(_element("th", name) for name in ("", "Rule", "Statement", "Checks"))))
    summary = f"{len(broken)} broken, {len(held)} held, {len(unexercised)} not exercised"
    return _join([_element("h2", f"Rules ({summary})"), _element("table", head, _element("tbody", *rows), class_="rules")])


def _failed_tests(failed: Sequence[Mapping[str, Any]]) -> Html:
    if not failed:
        return Html("")
    rows = [
        _element(
            "tr",
            _element("td", _element("code", test.get("test"))),
            _element("td", ", ".join(test.get("rules") or []) or "none"),
            _element("td", test.get("reason")),
        )
        for test in failed
    ]
    head = _element("thead", _element("tr", *(_element("th", name) for name in ("Test", "Rules broken", "Reason"))))
    return _join([_element("h2", f"Failed tests ({len(failed)})"), _element("table", head, _element("tbody", *rows), class_="failed-tests")])


def _list_section(title: str, items: Sequence[str], class_: str) -> Html:
    if not items:
        return Html("")
    return _join([_element("h2", title), _element("ul", *(_element("li", item) for item in items), class_=class_)])


def render_report(results: Mapping[str, Any]) -> str:
    """The whole page, as text."""
    kind, sentence = verdict(results)
    body = [
        _element("h1", "Contract run against ", _element("code", results.get("target"))),
        _element("p", sentence, class_=f"verdict {kind}", id="verdict"),
        _list_section("Configuration errors", results.get("configuration_errors") or [], "reasons configuration-errors"),
        _element("h2", "Figures"),
        _figures(results),
        _rules_table(results.get("rules") or []),
        _failed_tests(results.get("failed_tests") or []),
        _list_section("Deselected tests", results.get("deselected_reasons") or [], "reasons deselected"),
    ]
    head = _join([
        Html('<meta charset="utf-8">'),
        Html('<meta name="viewport" content="width=device-width, initial-scale=1">'),
        _element("title", f"Contract run: {sentence}"),
        _element("style", Html(STYLE)),
    ])
    return "<!doctype html>\n" + _element("html", _element("head", head), _element("body", *body), lang="en") + "\n"


def write_report(results: dict, path: Path) -> None:
    """Write the results file of a run (the command's `results.json`) as one HTML page at PATH."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(results), encoding="utf-8")
