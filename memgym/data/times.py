"""Parsing of the time formats the datasets publish."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

LOCOMO_TIME_FORMAT = "%I:%M %p on %d %B, %Y"  # "1:56 pm on 8 May, 2023"
LONGMEMEVAL_TIME_FORMAT = "%Y/%m/%d (%a) %H:%M"  # "2023/05/30 (Tue) 23:40"

_UNIT_SECONDS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
    "year": 365 * 86400,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week|month|year)s?", re.I)


def parse_locomo_time(raw: str) -> datetime:
    """Parse LoCoMo's session time ("1:56 pm on 8 May, 2023"); raises ValueError."""
    return datetime.strptime(raw.strip(), LOCOMO_TIME_FORMAT)


def parse_longmemeval_time(raw: str) -> datetime:
    """Parse LongMemEval's time ("2023/05/30 (Tue) 23:40"); raises ValueError."""
    return datetime.strptime(raw.strip(), LONGMEMEVAL_TIME_FORMAT)


def parse_duration(raw: str) -> timedelta:
    """Parse an English duration such as "7 days 8 hours ago"; raises ValueError if none found."""
    parts = _DURATION_PART.findall(raw)
    if not parts:
        raise ValueError(f"no duration in {raw!r}")
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts))


def unit_duration(number: float, unit: str) -> timedelta:
    """`number` of `unit` (MSC's time_num/time_unit); raises ValueError for an unknown unit."""
    key = unit.strip().lower().rstrip("s")
    if key not in _UNIT_SECONDS:
        raise ValueError(f"unknown time unit {unit!r}")
    return timedelta(seconds=float(number) * _UNIT_SECONDS[key])
