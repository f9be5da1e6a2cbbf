from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

BASE = {"DISCORD_TOKEN": "abc.def.ghi", "MUSICAPI_KEY": "k-123"}


def test_defaults_follow_the_product_spec() -> None:
    s = load_settings(BASE)
    assert s.musicapi_base_url == "https://api.musicapi.ai"
    assert s.musicapi_simulate is False
    assert s.database_path == Path("data/musicbot.db")
    assert s.default_model == "sonic-v5"
    assert s.sync_commands == "none"
    assert s.default_guild_budget == 300 and s.default_budget_period == "month"
    assert s.poll_interval_s == 15 and s.job_timeout_s == 900
    assert s.log_level == "INFO"
    assert s.owner_ids == frozenset()


def test_dev_guild_defaults_sync_to_guild() -> None:
    s = load_settings({**BASE, "DEV_GUILD_ID": "123456789012345678"})
    assert s.dev_guild_id == 123456789012345678 and s.sync_commands == "guild"


def test_simulate_needs_no_key() -> None:
    s = load_settings({"DISCORD_TOKEN": "abc.def.ghi", "MUSICAPI_SIMULATE": "1"})
    assert s.musicapi_simulate and s.musicapi_key is None


def test_secrets_stay_out_of_repr() -> None:
    s = load_settings({**BASE, "DISCORD_TOKEN": "very.secret.token", "MUSICAPI_KEY": "sk-hidden"})
    assert "very.secret.token" not in repr(s) and "sk-hidden" not in repr(s)


def test_a_postgresql_url_selects_postgresql_and_stays_out_of_repr() -> None:
    url = "postgresql://musicbot:s3cret@127.0.0.1:5432/musicbot"
    s = load_settings({**BASE, "DATABASE_URL": url})
    assert s.postgres_url == url and s.database_path is None and s.database == url
    assert "s3cret" not in repr(s)
    # Trust authentication: no password at all.
    assert load_settings({**BASE, "DATABASE_URL": "postgres://bot@db/music"}).database == (
        "postgres://bot@db/music"
    )


def test_cost_overrides() -> None:
    s = load_settings({**BASE, "MUSICAPI_COSTS": "create_music=15, stems_basic=30"})
    assert s.cost_overrides == {"create_music": 15, "stems_basic": 30}


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MUSICAPI_KEY": "k"}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "not a token", "MUSICAPI_KEY": "k"}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "a.b.c"}, "MUSICAPI_KEY"),
        ({**BASE, "MUSICAPI_SIMULATE": "maybe"}, "MUSICAPI_SIMULATE"),
        ({**BASE, "MUSICAPI_BASE_URL": "ftp://x"}, "MUSICAPI_BASE_URL"),
        ({**BASE, "MUSICAPI_BASE_URL": "https://api.musicapi.ai/api/v1"}, "MUSICAPI_BASE_URL"),
        ({**BASE, "DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({**BASE, "DATABASE_URL": "postgresql://u@h:port/db"}, "DATABASE_URL"),
        ({**BASE, "DATABASE_URL": "postgresql://u@h/db?nonsense=1"}, "DATABASE_URL"),
        ({**BASE, "DEV_GUILD_ID": "abc"}, "DEV_GUILD_ID"),
        ({**BASE, "SYNC_COMMANDS": "everywhere"}, "SYNC_COMMANDS"),
        ({**BASE, "SYNC_COMMANDS": "guild"}, "SYNC_COMMANDS"),
        ({**BASE, "OWNER_IDS": "1,2"}, "OWNER_IDS"),
        ({**BASE, "DEFAULT_GUILD_BUDGET": "lots"}, "DEFAULT_GUILD_BUDGET"),
        ({**BASE, "DEFAULT_GUILD_BUDGET": "-5"}, "DEFAULT_GUILD_BUDGET"),
        ({**BASE, "DEFAULT_BUDGET_PERIOD": "year"}, "DEFAULT_BUDGET_PERIOD"),
        ({**BASE, "LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({**BASE, "POLL_INTERVAL_S": "fast"}, "POLL_INTERVAL_S"),
        ({**BASE, "POLL_INTERVAL_S": "nan"}, "POLL_INTERVAL_S"),
        ({**BASE, "JOB_TIMEOUT_S": "0"}, "JOB_TIMEOUT_S"),
        ({**BASE, "MUSICAPI_COSTS": "teleport=3"}, "MUSICAPI_COSTS"),
        ({**BASE, "MUSICAPI_COSTS": "create_music=-1"}, "MUSICAPI_COSTS"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.variable == variable
    assert caught.value.problem


def test_push_settings() -> None:
    s = load_settings(BASE)
    assert s.poll_target_lag_s == 5 and s.webhook_public_url is None
    assert s.webhook_listen == ("0.0.0.0", 8080)
    s = load_settings(
        {
            **BASE,
            "WEBHOOK_PUBLIC_URL": "https://bot.example/musicapi/",
            "WEBHOOK_LISTEN": "127.0.0.1:9000",
            "WEBHOOK_SECRET": "a-long-enough-secret",
            "POLL_TARGET_LAG_S": "3",
        }
    )
    assert s.webhook_public_url == "https://bot.example/musicapi"
    assert s.webhook_listen == ("127.0.0.1", 9000) and s.poll_target_lag_s == 3
    assert "a-long-enough-secret" not in repr(s)
    for loopback in ("http://127.0.0.1:8080", "http://localhost:9/x", "http://[::1]:8080"):
        assert load_settings({**BASE, "WEBHOOK_PUBLIC_URL": loopback}).webhook_public_url


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_PUBLIC_URL", "http://bot.example/hook"),  # plain http off loopback
        ("WEBHOOK_PUBLIC_URL", "ftp://bot.example"),
        ("WEBHOOK_PUBLIC_URL", "https://bot.example/?q=1"),
        ("WEBHOOK_LISTEN", "8080"),
        ("WEBHOOK_SECRET", "short"),
        ("POLL_TARGET_LAG_S", "0"),
    ],
)
def test_bad_push_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, name: value})
    assert caught.value.variable == name


def test_media_hosts() -> None:
    assert load_settings(BASE).media_hosts is None
    s = load_settings({**BASE, "MEDIA_HOSTS": " CDN.Example.com , *.files.example.net,"})
    assert s.media_hosts == frozenset({"cdn.example.com", "*.files.example.net"})


@pytest.mark.parametrize(
    "value",
    ["https://cdn.example.com", "cdn.example.com:443", "cdn.example.com/path", "cdn..x", ",", "*"],
)
def test_bad_media_hosts_are_one_line_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, "MEDIA_HOSTS": value})
    assert caught.value.variable == "MEDIA_HOSTS"
    assert "\n" not in str(caught.value) and "host" in caught.value.problem


def test_poll_ceiling_and_pool_size() -> None:
    s = load_settings(BASE)
    assert s.max_polls_per_s == 20 and s.database_pool_size == 10
    s = load_settings({**BASE, "MUSICAPI_MAX_POLLS_PER_S": "2.5", "DATABASE_POOL_SIZE": "3"})
    assert s.max_polls_per_s == 2.5 and s.database_pool_size == 3


def test_owner_ceilings() -> None:
    s = load_settings(BASE)
    assert s.owner_daily_cap is None and s.allowed_guilds is None  # no cap, any server
    s = load_settings(
        {
            **BASE,
            "OWNER_DAILY_CAP": "5000",
            "ALLOWED_GUILDS": "123456789012345678, 223456789012345678",
        }
    )
    assert s.owner_daily_cap == 5000
    assert s.allowed_guilds == frozenset({123456789012345678, 223456789012345678})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MUSICAPI_MAX_POLLS_PER_S", "0"),
        ("MUSICAPI_MAX_POLLS_PER_S", "-4"),
        ("MUSICAPI_MAX_POLLS_PER_S", "fast"),
        ("MUSICAPI_MAX_POLLS_PER_S", "nan"),
        ("MUSICAPI_MAX_POLLS_PER_S", "inf"),
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_POOL_SIZE", "2.5"),
        ("DATABASE_POOL_SIZE", "ten"),
    ],
)
def test_bad_poll_ceiling_or_pool_size_is_one_line(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, name: value})
    assert caught.value.variable == name
    assert "\n" not in str(caught.value) and value in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OWNER_DAILY_CAP", "lots"),
        ("OWNER_DAILY_CAP", "-1"),
        ("ALLOWED_GUILDS", "my-server"),
        ("ALLOWED_GUILDS", "123456789012345678,,223456789012345678"),
        ("ALLOWED_GUILDS", "123456789012345678;223456789012345678"),
    ],
)
def test_bad_owner_ceilings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, name: value})
    assert caught.value.variable == name
    assert "\n" not in str(caught.value)
