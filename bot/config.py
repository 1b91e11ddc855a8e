"""Settings from the environment, checked once, with messages a person can act on.

Every variable is documented in README.md ("Configuration") and deploy/.env.example.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_RETENTION_DAYS = 180
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_DIGEST_DAY = "mon"
DEFAULT_DIGEST_HOUR = 8  # UTC
DEFAULT_ALERT_ASKERS = 3
# BotFather tokens look like 123456789:AA...; the Bot API rejects anything else anyway,
# but saying so before the first request gives a clear message instead of a 404.
_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,100}$")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def data_dir() -> Path:
    """Where regenbot keeps its database when REGENBOT_DB is not set (XDG data home)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "regenbot"


def config_dir() -> Path:
    """Where the pseudonymisation key lives by default: apart from the database."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "regenbot"


# Telegram's documented limit for a bot is about 30 messages a second overall.
DEFAULT_SEND_RATE = 30.0
DEFAULT_REMINDER_SWEEP = 60.0


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Settings:
    token: str | None
    api_url: str
    db_path: Path
    admin_ids: frozenset[int]
    retention_days: int
    key_file: Path
    key: bytes | None  # from REGENBOT_PSEUDONYM_KEY, if set
    expert_chat_id: int | None = None  # the maintainers' group for "Ask the maintainers"
    digest_day: int = 0  # weekday of the maintainers' digest, Monday = 0
    digest_hour: int = DEFAULT_DIGEST_HOUR  # UTC
    alert_askers: int = DEFAULT_ALERT_ASKERS  # a gap asked by this many people alerts the maintainers
    send_rate: float = DEFAULT_SEND_RATE  # messages a second to Telegram, all chats together
    reminder_sweep: float = DEFAULT_REMINDER_SWEEP  # seconds between looks for due quiz reminders

    def require_token(self) -> str:
        if not self.token:
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather (or use `regenbot chat`)")
        if not _TOKEN.match(self.token):
            raise ConfigError("TELEGRAM_BOT_TOKEN is malformed: expected <digits>:<35 or so letters> from @BotFather")
        return self.token


def _number(env: dict[str, str], name: str, default: float, low: float, high: float, what: str) -> float:
    """A number setting in [low, high]; anything else stops start-up with what was expected."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN, inf and words fail here too
        raise ConfigError(f"{name} must be {what} between {low:g} and {high:g}, got {raw!r}")
    return value


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    token = (env.get("TELEGRAM_BOT_TOKEN") or "").strip() or None
    api_url = (env.get("TELEGRAM_API_URL") or DEFAULT_API_URL).strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", api_url):
        raise ConfigError(f"TELEGRAM_API_URL must be an http(s) URL, got {api_url!r}")
    db = (env.get("REGENBOT_DB") or "").strip()
    if db and Path(db).is_dir():
        raise ConfigError(f"REGENBOT_DB must name a database file, not a directory: {db!r}")
    admin_ids: set[int] = set()
    for part in (env.get("REGENBOT_ADMIN_IDS") or "").split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"-?\d{1,20}", part):
            raise ConfigError(f"REGENBOT_ADMIN_IDS must be comma-separated numeric Telegram user ids, got {part!r}")
        admin_ids.add(int(part))
    raw_days = (env.get("REGENBOT_RETENTION_DAYS") or str(DEFAULT_RETENTION_DAYS)).strip()
    if not raw_days.isdigit() or int(raw_days) < 1:
        raise ConfigError(f"REGENBOT_RETENTION_DAYS must be a whole number of days >= 1, got {raw_days!r}")
    key_file = Path(env.get("REGENBOT_KEY_FILE") or config_dir() / "pseudonym.key")
    raw_key = (env.get("REGENBOT_PSEUDONYM_KEY") or "").strip()
    if raw_key and len(raw_key) < 32:
        raise ConfigError("REGENBOT_PSEUDONYM_KEY must be at least 32 characters of random text")
    expert = (env.get("REGENBOT_EXPERT_CHAT_ID") or "").strip()
    if expert and not re.fullmatch(r"-?\d{1,20}", expert):
        raise ConfigError(
            f"REGENBOT_EXPERT_CHAT_ID must be a numeric Telegram chat id (groups are negative), got {expert!r}"
        )
    raw_day = (env.get("REGENBOT_DIGEST_DAY") or DEFAULT_DIGEST_DAY).strip()
    day = raw_day.lower()[:3]
    if day not in DAYS or not any(full.startswith(raw_day.lower()) for full in _WEEKDAYS):
        raise ConfigError(f"REGENBOT_DIGEST_DAY must be a weekday (mon, tue, ... sun), got {raw_day!r}")
    hour = (env.get("REGENBOT_DIGEST_HOUR") or str(DEFAULT_DIGEST_HOUR)).strip()
    if not hour.isdigit() or not 0 <= int(hour) <= 23:
        raise ConfigError(f"REGENBOT_DIGEST_HOUR must be an hour of the day, 0-23 (UTC), got {hour!r}")
    askers = (env.get("REGENBOT_ALERT_ASKERS") or str(DEFAULT_ALERT_ASKERS)).strip()
    if not askers.isdigit() or int(askers) < 1:
        raise ConfigError(f"REGENBOT_ALERT_ASKERS must be a whole number of people >= 1, got {askers!r}")
    return Settings(
        token=token,
        api_url=api_url,
        db_path=Path(db) if db else data_dir() / "regenbot.sqlite3",
        admin_ids=frozenset(admin_ids),
        retention_days=int(raw_days),
        key_file=key_file,
        key=raw_key.encode() if raw_key else None,
        expert_chat_id=int(expert) if expert else None,
        digest_day=DAYS.index(day),
        digest_hour=int(hour),
        alert_askers=int(askers),
        send_rate=_number(env, "REGENBOT_SEND_RATE", DEFAULT_SEND_RATE, 0.1, 1000, "messages a second"),
        reminder_sweep=_number(env, "REGENBOT_REMINDER_SWEEP", DEFAULT_REMINDER_SWEEP, 0.05, 86400, "seconds"),
    )
