"""The date that statuses and counts are computed for."""

from __future__ import annotations

import datetime as dt
import re

# ASCII digits only, and \Z: `$` would accept a trailing newline. The amount has at most 7 digits
# (no calendar spans more), so int() stays cheap.
_RELATIVE = re.compile(r"@today(?:([+-])([0-9]{1,7})([dmy]))?(T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?\Z")


class Clock:
    """Today: fixed when set, else the real local date, read at each call."""

    def __init__(self, today: dt.date | None = None) -> None:
        self.fixed = today

    def today(self) -> dt.date:
        return self.fixed or dt.date.today()

    def set(self, today: dt.date | None) -> None:
        self.fixed = today


class OutsideCalendar(ValueError):
    """A date computed from stored values falls outside 0001-01-01..9999-12-31, the calendar
    every date field is written in (and MySQL's DATE ends at 9999-12-31)."""


def add_period(start: dt.date, amount: int, unit: str) -> dt.date:
    """`start` + `amount` DAY, MONTH or YEAR; a day past the end of a month clamps to its last day.

    Raises OutsideCalendar when the result is not a date of the calendar; `amount` may be any
    integer (it is checked before it reaches `timedelta` or `date`, which overflow)."""
    if unit == "DAY":
        if not -(start - dt.date.min).days <= amount <= (dt.date.max - start).days:
            raise OutsideCalendar(f"{start.isoformat()} + {amount} days is outside the calendar")
        return start + dt.timedelta(days=amount)
    months = amount * (12 if unit == "YEAR" else 1)
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise OutsideCalendar(f"{start.isoformat()} + {amount} {unit.lower()}s is outside the calendar")
    month += 1
    last_day = 31 if month == 12 else (dt.date(year, month + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(start.day, last_day))


def resolve_relative(value: object, today: dt.date) -> object:
    """A seed value like `@today+30d` or `@today-1yT09:00:00` as a date (date-time) of `today`;
    any other value as it is. Only seed files are resolved: an imported state keeps its strings.

    Raises ValueError for a string that starts with `@today` but is not a relative date, or
    whose date would leave the calendar (0001-01-01..9999-12-31)."""
    if not isinstance(value, str) or not value.startswith("@today"):
        return value
    match = _RELATIVE.match(value)
    if not match:
        raise ValueError("not a relative date (@today, @today+30d, @today-2y, @today+3mT09:00:00)")
    sign, amount, unit, time = match.groups()
    day = today
    if amount:
        count = int(amount) * (-1 if sign == "-" else 1)
        try:
            day = add_period(today, count, {"d": "DAY", "m": "MONTH", "y": "YEAR"}[unit])
        except (OverflowError, ValueError):
            raise ValueError(f"{today.isoformat()} {sign}{amount}{unit} leaves the calendar (0001-01-01..9999-12-31)") from None
    return day.isoformat() + (time or "")
