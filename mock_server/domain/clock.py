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


def add_period(start: dt.date, amount: int, unit: str) -> dt.date:
    """`start` + `amount` DAY, MONTH or YEAR; a day past the end of a month clamps to its last day."""
    if unit == "DAY":
        return start + dt.timedelta(days=amount)
    months = amount * (12 if unit == "YEAR" else 1)
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    last_day = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
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
