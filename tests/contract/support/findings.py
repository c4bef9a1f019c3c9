"""What a failed test found, for the end-of-run summary: the rules it broke, and a short reason
for whatever broke no rule of the suite.

A test fails by a `RuleViolation` of the suite's own checks, by a failure of one of Schemathesis'
checks (`Failure`, several in a `FailureGroup`), or by anything else (an assertion of the test, an
unexpected exception, an error of a fixture). Schemathesis' checks that judge a rule of the suite
count as that rule (`SCHEMATHESIS_RULES`); the others are named by their code and title.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from schemathesis.core.failures import CustomFailure, Failure, FailureGroup

from . import rules
from .exchange import Exchange, curl_line, render

ANSWER_MATCHES_SPEC = "answer_matches_spec"
rules.RULES[ANSWER_MATCHES_SPEC] = rules.Rule(
    ANSWER_MATCHES_SPEC,
    "Every answer is one the spec documents for its operation: a documented status code and Content-Type, "
    "the headers it requires, a body its schema admits (Schemathesis' conformance checks).",
)

# Schemathesis' check -> the rule of the suite it judges (schemathesis.toml enables these and more)
SCHEMATHESIS_RULES: dict[str, str] = {
    "not_a_server_error": "no_server_error",
    "status_code_conformance": ANSWER_MATCHES_SPEC,
    "content_type_conformance": ANSWER_MATCHES_SPEC,
    "response_headers_conformance": ANSWER_MATCHES_SPEC,
    "response_schema_conformance": ANSWER_MATCHES_SPEC,
    "negative_data_rejection": "malformed_input_is_400",
    "ignored_auth": "unauthorized_without_valid_token",
}
REASON_CHARS = 160
DETAIL_CHARS = 4000
# The answers Schemathesis' checks failed on in the running test (noted by the suite's
# `after_validate` hook, `st_checks.note_schemathesis_results`), so that a failure shows the
# exchange and a curl line in the suite's own form (the token as $TOKEN). Reset per test.
FAILED_EXCHANGES: list[Exchange] = []
_REPRODUCE = re.compile(r"\nReproduce with:\s*\n(.*)\Z", re.S)


@dataclass(frozen=True)
class Finding:
    """One cause of a failed test: a broken rule, or (rule None) a short reason; for the results
    file, the whole message, the last exchange rendered as text and its curl line (not compared:
    the same cause found twice is one)."""

    rule: str | None
    reason: str
    detail: str = field(default="", compare=False)
    exchange: str = field(default="", compare=False)
    curl: str = field(default="", compare=False)


def _leaves(error: BaseException) -> Iterator[BaseException]:
    """The errors a failure is made of: each member of (nested) exception groups, and the
    exception a custom Schemathesis check raised in place of Schemathesis' wrapper."""
    if isinstance(error, BaseExceptionGroup):
        for member in error.exceptions:
            yield from _leaves(member)
    elif isinstance(error, CustomFailure) and isinstance(error.exception, BaseException):
        yield from _leaves(error.exception)
    else:
        yield error


def _first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= REASON_CHARS else line[: REASON_CHARS - 3] + "..."


def schemathesis_rules(failure: Failure) -> list[str]:
    """The suite's rules that a Schemathesis failure breaks (none when no rule fits)."""
    return sorted({SCHEMATHESIS_RULES[check] for check in type(failure).checks if check in SCHEMATHESIS_RULES})


def _clipped(text: str) -> str:
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 3] + "..."


def _schemathesis_exchange(group: BaseException | None) -> tuple[str, str]:
    """The exchange and curl line of a Schemathesis failure: the answer the suite's hook noted,
    else what Schemathesis' own report says (its response and its `Reproduce with:` line)."""
    if FAILED_EXCHANGES:
        last = FAILED_EXCHANGES[-1]
        return render(last), curl_line(last)
    message = str(getattr(group, "message", "") or "")
    reproduce = _REPRODUCE.search(message)
    if reproduce is None:
        return _clipped(message.strip()), ""
    return _clipped(message[: reproduce.start()].strip()), " ".join(reproduce.group(1).split())


def finding_of(error: BaseException, group: BaseException | None = None) -> list[Finding]:
    if isinstance(error, rules.RuleViolation):
        last = error.exchanges[-1] if error.exchanges else None
        return [Finding(
            error.rule, _first_line(error.detail), _clipped(error.detail),
            render(last) if last else "", curl_line(last) if last else "",
        )]
    if isinstance(error, Failure):
        reason = f"{error.code} {error.title}"
        exchange, curl = _schemathesis_exchange(group)
        detail = _clipped(f"{reason}: {error.message}" if error.message else reason)
        found = [Finding(rule, reason, detail, exchange, curl) for rule in schemathesis_rules(error)]
        return found or [Finding(None, reason, detail, exchange, curl)]
    return [Finding(None, _first_line(f"{type(error).__name__}: {error}"), _clipped(f"{type(error).__name__}: {error}"))]


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The errors this one was raised from or while handling (`raise ... from`, `except:`), nearest first."""
    seen = {id(error)}
    current = error.__cause__ or error.__context__
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def findings(error: BaseException) -> list[Finding]:
    """What the error of a failed test says, each cause once, in order: a rule broken further down
    an error's chain (a violation re-raised as another error) still counts as that rule."""
    found: dict[Finding, None] = {}
    group = error if isinstance(error, FailureGroup) else None
    for leaf in _leaves(error):
        for finding in finding_of(leaf, group):
            found.setdefault(finding, None)
        for cause in _causes(leaf):
            for judged in _leaves(cause):
                if isinstance(judged, (rules.RuleViolation, Failure)):
                    for finding in finding_of(judged, cause if isinstance(cause, FailureGroup) else group):
                        found.setdefault(finding, None)
    return list(found)
