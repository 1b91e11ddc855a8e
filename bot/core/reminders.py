"""Daily review reminders: what "/remind 07:30 Asia/Jakarta" means, and when it next falls.

Spaced repetition only works if trainees come back when items fall due, so a trainee may
ask for one message a day at a local time of their choosing. Times are kept as the local
wall-clock time and an IANA zone (or a fixed UTC offset), never as a UTC hour: a reminder
set for 07:30 in a zone with daylight saving stays at 07:30 across the change. Pure
functions of the time they are given, so tests drive them with any clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Indonesia's zones by their everyday names (the review comes from Bali).
ZONE_ALIASES = {"wib": "Asia/Jakarta", "wita": "Asia/Makassar", "wit": "Asia/Jayapura", "gmt": "UTC", "z": "UTC"}
# A reminder more than this late (the bot was down at the time) is skipped, not sent at night.
GRACE = 3 * 3600.0
USAGE = (
    "Usage: /remind HH:MM [time zone], e.g. /remind 07:30 Asia/Jakarta, /remind 19:00 +07:00 or "
    "/remind 07:30 WITA. /remind on uses the time of day of your first quiz; /remind off stops reminders."
)

_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$")
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$")


@dataclass(frozen=True)
class Schedule:
    """One message a day at ``hour:minute`` local time in ``zone``."""

    hour: int
    minute: int
    zone: str  # an IANA name, "UTC", or a fixed offset such as "+07:00"

    @property
    def tz(self) -> tzinfo:
        return zone_info(self.zone)

    @property
    def label(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d} {self.zone}"

    def at(self, day: date) -> float:
        """The moment this schedule falls on local ``day`` (a time skipped by a clock change
        falls at the same wall-clock time after it)."""
        local = datetime.combine(day, time(self.hour, self.minute), self.tz)
        return local.timestamp()

    def next_after(self, moment: float, *, not_on: float | None = None) -> float:
        """The first time strictly after ``moment``, skipping the local day of ``not_on``
        (the day a reminder was already sent: one message a day, even after a change)."""
        day = datetime.fromtimestamp(moment, self.tz).date()
        skip = datetime.fromtimestamp(not_on, self.tz).date() if not_on is not None else None
        for offset in range(3):
            candidate = day + timedelta(days=offset)
            at = self.at(candidate)
            if at > moment and candidate != skip:
                return at
        return self.at(day + timedelta(days=3))  # unreachable: two consecutive days cannot both be skipped

    def local_date(self, moment: float) -> date:
        return datetime.fromtimestamp(moment, self.tz).date()


@lru_cache(maxsize=1024)
def zone_info(zone: str) -> tzinfo:
    if zone == "UTC":
        return timezone.utc
    m = _OFFSET.match(zone.lower())
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0)))
    return ZoneInfo(zone)


@lru_cache(maxsize=1)
def _zones_by_lower() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones()}


def parse_zone(text: str) -> str | None:
    """ "Asia/Jakarta", "asia/jakarta", "UTC", "+7", "UTC+07:00", "GMT-3", "WITA" -> a zone name."""
    raw = text.strip()
    low = raw.lower()
    if low in ZONE_ALIASES:
        return ZONE_ALIASES[low]
    if low in ("utc", "utc+0", "+0", "+00:00"):
        return "UTC"
    m = _OFFSET.match(low)
    if m:
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
            return None
        if hours == 0 and minutes == 0:
            return "UTC"
        return f"{m.group(1)}{hours:02d}:{minutes:02d}"
    name = _zones_by_lower().get(low)
    if name is None:
        return None
    try:
        zone_info(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def parse_time(text: str) -> tuple[int, int] | None:
    """ "07:30", "7:30", "7.30", "19h30", "7am", "7:30pm" -> (hour, minute); a bare "7" is refused."""
    m = _TIME.match(text.strip().lower())
    if not m:
        return None
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif m.group(2) is None:
        return None  # a bare "7" is too easy to misread: 07:00 or 19:00?
    if hour > 23 or minute > 59:
        return None
    return hour, minute


@dataclass(frozen=True)
class Request:
    """What a /remind command asks for."""

    action: str  # "set" | "off" | "status" | "first_use"
    hour: int = 0
    minute: int = 0
    zone: str | None = None  # None: the trainee's remembered zone, else UTC


def parse_request(args: list[str]) -> Request | str:
    """The request, or the message explaining what was wrong with it."""
    words = [a for a in args if a.strip()]
    if not words:
        return Request("status")
    first = words[0].lower()
    if first in ("off", "stop", "cancel", "none"):
        return Request("off")
    if first in ("on", "daily", "yes"):
        zone = parse_zone(" ".join(words[1:])) if len(words) > 1 else None
        if len(words) > 1 and zone is None:
            return f"I do not know the time zone “{' '.join(words[1:])[:40]}”. {USAGE}"
        return Request("first_use", zone=zone)
    # "7:30 pm Asia/Jakarta": the am/pm may come as its own word.
    if len(words) > 1 and words[1].lower() in ("am", "pm"):
        words = [words[0] + words[1], *words[2:]]
    parsed = parse_time(words[0])
    if parsed is None:
        return f"I could not read “{words[0][:20]}” as a time. {USAGE}"
    zone = None
    if len(words) > 1:
        zone = parse_zone(" ".join(words[1:]))
        if zone is None:
            return f"I do not know the time zone “{' '.join(words[1:])[:40]}”. {USAGE}"
    return Request("set", parsed[0], parsed[1], zone)


def due_text(count: int) -> str:
    """The reminder itself: short, and it names the command that clears it."""
    return f"{count} item{'s' if count != 1 else ''} due — /quiz"
