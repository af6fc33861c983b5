"""The one clock: "now" for stored times and "today" for the clinic's calendar.

Stored times are UTC cut to the millisecond BSON keeps, so what is answered (or hashed)
now is what a later read returns. Dates a person writes on a form (a birth, a visit, a
closing) are days of the clinic's calendar: China keeps one time zone all year, so on a
UTC server "today" starts at 16:00 UTC, not at midnight.
"""

from datetime import UTC, date, datetime, time, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def utcnow() -> datetime:
    # Every reading goes through here, so a test can pin the time in one place.
    return datetime.now(UTC)


def now() -> datetime:
    at = utcnow()
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def today() -> date:
    return utcnow().astimezone(CHINA).date()


def local(at: datetime) -> datetime:
    """A stored time on the clinic's clock, for people to read."""
    return at.astimezone(CHINA)


def day_ends(day: date) -> datetime:
    """When a day of the clinic's calendar ends: the next one's first moment, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(), CHINA).astimezone(UTC)
