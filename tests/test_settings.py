"""Every setting is checked at start, with a message that names it and says what it takes."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("REGENBOT_SEND_RATE", "abc", "REGENBOT_SEND_RATE must be messages a second"),
        ("REGENBOT_SEND_RATE", "-5", "REGENBOT_SEND_RATE must be messages a second"),
        ("REGENBOT_SEND_RATE", "inf", "REGENBOT_SEND_RATE"),
        ("REGENBOT_REMINDER_SWEEP", "abc", "REGENBOT_REMINDER_SWEEP must be seconds"),
        ("REGENBOT_REMINDER_SWEEP", "0", "REGENBOT_REMINDER_SWEEP"),
        ("REGENBOT_DIGEST_DAY", "funday", "got 'funday'"),
        ("REGENBOT_DIGEST_HOUR", "25", "REGENBOT_DIGEST_HOUR"),
    ],
)
def test_a_bad_setting_is_refused_by_name(name, value, says, tmp_path):
    with pytest.raises(ConfigError, match=says):
        load_settings({name: value, "REGENBOT_DB": str(tmp_path / "db.sqlite3")})


def test_a_database_path_that_is_a_directory_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not a directory"):
        load_settings({"REGENBOT_DB": str(tmp_path)})


def test_good_values_are_read(tmp_path):
    settings = load_settings(
        {"REGENBOT_SEND_RATE": "12.5", "REGENBOT_REMINDER_SWEEP": "5", "REGENBOT_DIGEST_DAY": "Friday",
         "REGENBOT_DB": str(tmp_path / "db.sqlite3")}
    )
    assert (settings.send_rate, settings.reminder_sweep, settings.digest_day) == (12.5, 5.0, 4)


def test_run_with_a_bad_setting_exits_with_the_message_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("REGENBOT_SEND_RATE", "abc")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "REGENBOT_SEND_RATE must be" in err and "Traceback" not in err
