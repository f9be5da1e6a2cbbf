"""The operations settings: METRICS_LISTEN, LOG_FORMAT, alerts and the credit threshold."""

import pytest

from bot.config import ConfigError, load_settings

BASE = {"DISCORD_TOKEN": "abc.def.ghi", "MUSICAPI_KEY": "k-123"}


def test_operations_defaults() -> None:
    s = load_settings(BASE)
    assert s.metrics_listen is None and s.log_format == "text"
    assert s.owner_alert_channel_id is None and s.alert_owner_id is None
    assert s.credits_low == 500


def test_operations_values() -> None:
    s = load_settings(
        {
            **BASE,
            "METRICS_LISTEN": "0.0.0.0:9100",
            "LOG_FORMAT": "JSON",
            "OWNER_ALERT_CHANNEL_ID": "123456789012345678",
            "OWNER_IDS": "223456789012345678, 123456789012345679",
            "MUSICAPI_CREDITS_LOW": "40",
        }
    )
    assert s.metrics_listen == ("0.0.0.0", 9100) and s.log_format == "json"
    assert s.owner_alert_channel_id == 123456789012345678
    assert s.alert_owner_id == 223456789012345678  # the first one listed, not the smallest
    assert s.credits_low == 40
    assert load_settings({**BASE, "METRICS_LISTEN": "[::1]:9100"}).metrics_listen == ("::1", 9100)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("METRICS_LISTEN", "9100"),
        ("METRICS_LISTEN", "localhost:http"),
        ("METRICS_LISTEN", "127.0.0.1:70000"),
        ("LOG_FORMAT", "xml"),
        ("OWNER_ALERT_CHANNEL_ID", "general"),
        ("MUSICAPI_CREDITS_LOW", "-1"),
    ],
)
def test_bad_operations_values_name_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, name: raw})
    assert caught.value.variable == name
