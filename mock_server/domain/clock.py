"""The date that statuses and counts are computed for."""

from __future__ import annotations

import datetime as dt
import re

_RELATIVE = re.compile(r"^@today(?:([+-])(\d+)([dmy]))?(T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)?$")


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
    """Seed values like `@today+30d` or `@today-1yT09:00:00` as dates (date-times) of `today`."""
    if not isinstance(value, str) or not value.startswith("@today"):
        return value
    match = _RELATIVE.match(value)
    if not match:
        raise ValueError(f"not a relative date: {value!r}")
    sign, amount, unit, time = match.groups()
    day = today
    if amount:
        count = int(amount) * (-1 if sign == "-" else 1)
        day = add_period(today, count, {"d": "DAY", "m": "MONTH", "y": "YEAR"}[unit])
    return day.isoformat() + (time or "")
