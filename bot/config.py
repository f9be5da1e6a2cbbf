"""Typed settings read from the environment (and `.env`, loaded by the entry point).

Every variable is validated here, once, at start-up. A bad value raises `ConfigError`, which
the entry point turns into one plain line naming the variable and what to do about it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlparse, urlsplit

from bot.periods import BUDGET_PERIODS
from bot.states import BudgetPeriod

SyncScope = Literal["global", "guild", "none"]
LogFormat = Literal["text", "json"]

SYNC_SCOPES: tuple[SyncScope, ...] = ("global", "guild", "none")
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")

# The models offered in the `model` option. Upstream renames models often
# (docs/musicapi/protocol.md §3.20), so this is configuration: MODELS overrides it without a
# release.
DEFAULT_MODELS = (
    "sonic-v3-5",
    "sonic-v4",
    "sonic-v4-5",
    "sonic-v4-5-plus",
    "sonic-v5",
    "sonic-v5-5",
)


# MUSICAPI_MAX_POLLS_PER_S unless set: the README ("Jobs") says why this number.
DEFAULT_MAX_POLLS_PER_S = 20.0


class ConfigError(Exception):
    """A configuration value is missing or malformed."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Settings:
    discord_token: str = field(repr=False)
    musicapi_key: str | None = field(repr=False)
    musicapi_base_url: str
    musicapi_simulate: bool
    database_path: Path | None  # None when DATABASE_URL names a PostgreSQL server
    default_model: str
    models: tuple[str, ...]
    dev_guild_id: int | None
    sync_commands: SyncScope
    owner_ids: frozenset[int]
    default_guild_budget: int
    default_budget_period: BudgetPeriod
    log_level: str
    poll_interval_s: float
    job_timeout_s: float
    cost_overrides: Mapping[str, int]
    # Where discord.py sends REST and gateway traffic. Only tests point this elsewhere
    # (at the loopback fake Discord); production leaves it unset.
    discord_api_base_url: str | None = None
    # How long the built-in simulator takes per song when MUSICAPI_SIMULATE=1.
    simulator_generation_s: float = 20.0
    # Operations: where /metrics and /healthz listen, the log line format, where
    # owner alerts go, and the balance below which the owner is told credits run low.
    metrics_listen: tuple[str, int] | None = None
    log_format: LogFormat = "text"
    owner_alert_channel_id: int | None = None
    alert_owner_id: int | None = None  # the first id in OWNER_IDS: alerts DM them
    credits_low: int = 500
    # DATABASE_URL when it is postgresql://… (it may hold a password: never printed).
    postgres_url: str | None = field(default=None, repr=False)
    # Seed of the built-in simulator (MUSICAPI_SIMULATE=1): the same seed replays the same
    # ids, task times and faults. None: a fresh seed each start.
    simulator_seed: int | None = None
    # Shards of this process (see bot/shards.py); None: discord.py's recommended count, all
    # of them in this process.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    # How long a process holds a job without renewing its lease (see bot/store/leases.py).
    job_lease_s: float = 20.0
    # How late (p99) a finished job may be noticed by polling; the schedule learns the rest.
    poll_target_lag_s: float = 5.0
    # Push: where MusicAPI reaches the webhook receiver (None: no receiver, polling only).
    webhook_public_url: str | None = None
    webhook_listen: tuple[str, int] = ("0.0.0.0", 8080)
    webhook_secret: str | None = field(default=None, repr=False)
    # MEDIA_HOSTS: the only hosts result files are downloaded from ("*.example.com" for any
    # name under it); None: any public https:// host.
    media_hosts: frozenset[str] | None = None
    # The most status checks per second this process sends MusicAPI (see bot/jobs/poll_budget).
    max_polls_per_s: float = DEFAULT_MAX_POLLS_PER_S
    # PostgreSQL connections this process holds at most (its pool; LISTEN adds one of its own).
    database_pool_size: int = 10
    # The owner's ceilings: credits every server together may reserve per UTC day (None: no
    # cap), and the only servers the bot stays in (None: any).
    owner_daily_cap: int | None = None
    allowed_guilds: frozenset[int] | None = None

    @property
    def database(self) -> Path | str:
        """What `Database.open` takes: the SQLite file or the PostgreSQL URL."""
        if self.postgres_url is not None:
            return self.postgres_url
        assert self.database_path is not None
        return self.database_path


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, f"expected 1 or 0, got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int | None, *, minimum: int = 0) -> int | None:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def _number(env: Mapping[str, str], name: str, unit: str) -> tuple[str, float] | None:
    """The variable as written and as a float (None when unset); `unit` words the refusal."""
    raw = _get(env, name)
    if raw is None:
        return None
    try:
        return raw, float(raw)
    except ValueError:
        raise ConfigError(name, f"expected a number of {unit}, got {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    read = _number(env, name, "seconds")
    if read is None:
        return default
    raw, value = read
    if not value >= minimum:  # also rejects NaN
        raise ConfigError(name, f"must be at least {minimum}, got {raw}")
    return value


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    read = _number(env, name, "requests per second")
    if read is None:
        return default
    raw, value = read
    if not 0 < value < float("inf"):  # also rejects NaN
        raise ConfigError(name, f"must be a positive number, got {raw}")
    return value


Choice = TypeVar("Choice", bound=str)


def _choice(
    env: Mapping[str, str], name: str, choices: tuple[Choice, ...], default: Choice
) -> Choice:
    raw = _get(env, name)
    if raw is None:
        return default
    for choice in choices:  # the tuple's own item, so a Literal tuple gives a Literal back
        if raw.lower() == choice:
            return choice
    raise ConfigError(name, f"must be one of {', '.join(choices)}; got {raw!r}")


def _snowflake(raw: str, name: str) -> int:
    if not raw.isdigit() or not 15 <= len(raw) <= 21:
        raise ConfigError(name, f"expected a Discord id (a 17-20 digit number), got {raw!r}")
    return int(raw)


def _allowed_guilds(env: Mapping[str, str]) -> frozenset[int] | None:
    raw = _get(env, "ALLOWED_GUILDS")
    if raw is None:
        return None
    try:
        return frozenset(_snowflake(part.strip(), "ALLOWED_GUILDS") for part in raw.split(","))
    except ConfigError as error:
        raise ConfigError(
            "ALLOWED_GUILDS", f"{error.problem}; give comma-separated server ids"
        ) from None


def _database(env: Mapping[str, str]) -> tuple[Path | None, str | None]:
    """(SQLite file, None) or (None, PostgreSQL URL) from DATABASE_URL."""
    url = _get(env, "DATABASE_URL") or "sqlite:///data/musicbot.db"
    if url.startswith(("postgres://", "postgresql://")):
        return None, _postgres_url(url)
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ConfigError(
            "DATABASE_URL",
            f"expected sqlite:///relative/path.db or sqlite:////absolute/path.db, got {url!r}",
        )
    return Path(url[len(prefix) :]), None


def database_setting(env: Mapping[str, str] | None = None) -> Path | str:
    """DATABASE_URL alone (the SQLite file or the PostgreSQL URL), for tools such as
    `musicbot backup` that need no Discord token; raises ConfigError like load_settings."""
    path, url = _database(os.environ if env is None else env)
    if url is not None:
        return url
    assert path is not None  # _database gives one or the other
    return path


def listen_setting(env: Mapping[str, str] | None = None) -> tuple[str, int] | None:
    """METRICS_LISTEN alone, for `musicbot healthcheck`."""
    return _listen(os.environ if env is None else env, "METRICS_LISTEN")


def _postgres_url(url: str) -> str:
    """Checks the URL's shape here, so a typo is one line at start; reaching the server is
    checked when the database opens."""
    shape = "expected postgresql://user:password@host:port/database"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise ConfigError("DATABASE_URL", f"{shape} ({error})") from None
    if parts.path.count("/") > 1:
        raise ConfigError("DATABASE_URL", f"{shape}; the database name has a '/'")
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        raise ConfigError(
            "DATABASE_URL",
            'PostgreSQL needs the "postgres" extra: pip install ".[postgres]"',
        ) from None
    try:
        conninfo_to_dict(url)
    except Exception as error:  # psycopg.ProgrammingError: libpq could not parse it
        problem = " ".join(str(error).split())
        raise ConfigError("DATABASE_URL", f"{shape} ({problem})") from None
    return url


def _listen(env: Mapping[str, str], name: str) -> tuple[str, int] | None:
    """`host:port` (`[::1]:9100` for IPv6) to listen on, or None when unset."""
    raw = _get(env, name)
    if raw is None:
        return None
    host, sep, port = raw.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    # Port 0 picks a free port (tests); the log line at start says which.
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(name, f"expected host:port, like 127.0.0.1:9100; got {raw!r}")
    return host, int(port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


# The per-job address adds "/webhook/<job id>/<32-char token>"; MusicAPI takes ≤ 1024 chars.
WEBHOOK_URL_MAX = 1024 - 64


def _webhook_public_url(env: Mapping[str, str]) -> str | None:
    raw = _get(env, "WEBHOOK_PUBLIC_URL")
    if raw is None:
        return None
    parsed = urlparse(raw)
    host = parsed.hostname or ""
    if parsed.scheme not in ("http", "https") or not host or parsed.query or parsed.fragment:
        raise ConfigError("WEBHOOK_PUBLIC_URL", f"expected https://host[:port][/path], got {raw!r}")
    if parsed.scheme == "http" and not _is_loopback(host):
        raise ConfigError(
            "WEBHOOK_PUBLIC_URL",
            f"must start with https:// (http:// only for loopback hosts), got {raw!r}",
        )
    if len(raw) > WEBHOOK_URL_MAX:
        raise ConfigError("WEBHOOK_PUBLIC_URL", f"too long (at most {WEBHOOK_URL_MAX} characters)")
    return raw.rstrip("/")


def _webhook_secret(env: Mapping[str, str]) -> str | None:
    raw = _get(env, "WEBHOOK_SECRET")
    if raw is not None and len(raw) < 16:
        raise ConfigError("WEBHOOK_SECRET", "too short; use at least 16 random characters")
    return raw


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^(\*\.)?({_LABEL}\.)*{_LABEL}$")


def _media_hosts(env: Mapping[str, str]) -> frozenset[str] | None:
    """MEDIA_HOSTS="cdn.example.com,*.files.example.net": host names only, no scheme or port."""
    raw = _get(env, "MEDIA_HOSTS")
    if raw is None:
        return None
    hosts = [item.strip().lower().rstrip(".") for item in raw.split(",") if item.strip()]
    for host in hosts:
        if len(host) > 253 or not _HOST_NAME.match(host):
            raise ConfigError(
                "MEDIA_HOSTS",
                f"{host!r} is not a host name; list names like cdn.example.com or "
                "*.example.com, separated by commas",
            )
    if not hosts:
        raise ConfigError("MEDIA_HOSTS", "lists no host; unset it to allow any public host")
    return frozenset(hosts)


def _costs(env: Mapping[str, str]) -> dict[str, int]:
    """MUSICAPI_COSTS="create_music=20,stems_basic=30" overrides entries of the cost table."""
    raw = _get(env, "MUSICAPI_COSTS")
    if raw is None:
        return {}
    # Imported here so that config stays importable without the quota package's tables.
    from bot.quota.costs import DEFAULT_COSTS

    overrides: dict[str, int] = {}
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        op, sep, amount = item.partition("=")
        op = op.strip()
        if not sep or op not in DEFAULT_COSTS:
            known = ", ".join(sorted(DEFAULT_COSTS))
            raise ConfigError(
                "MUSICAPI_COSTS",
                f"{item!r} is not operation=credits with a known operation ({known})",
            )
        try:
            value = int(amount)
        except ValueError:
            raise ConfigError(
                "MUSICAPI_COSTS", f"{item!r}: credits must be a whole number"
            ) from None
        if value < 0:
            raise ConfigError("MUSICAPI_COSTS", f"{item!r}: credits cannot be negative")
        overrides[op] = value
    return overrides


def _shards(env: Mapping[str, str]) -> tuple[int | None, tuple[int, ...] | None]:
    """SHARD_COUNT alone: this process runs all of them; with SHARD_IDS: only those."""
    from bot.shards import ShardSpecError, parse_shard_ids

    count = _int(env, "SHARD_COUNT", None, minimum=1)
    raw_ids = _get(env, "SHARD_IDS")
    if raw_ids is None:
        return count, None if count is None else tuple(range(count))
    if count is None:
        raise ConfigError(
            "SHARD_IDS",
            "needs SHARD_COUNT, the total number of shards across all processes",
        )
    try:
        return count, parse_shard_ids(raw_ids, count)
    except ShardSpecError as error:
        raise ConfigError("SHARD_IDS", str(error)) from None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise ConfigError on the first bad one."""
    env = os.environ if env is None else env

    token = _get(env, "DISCORD_TOKEN")
    if token is None:
        raise ConfigError(
            "DISCORD_TOKEN",
            "not set; copy the bot token from the Discord Developer Portal (Bot tab) into .env",
        )
    if any(ch.isspace() for ch in token) or token.count(".") < 2:
        raise ConfigError(
            "DISCORD_TOKEN",
            "does not look like a bot token; copy it again from the Developer Portal (Bot tab)",
        )

    simulate = _bool(env, "MUSICAPI_SIMULATE", False)
    key = _get(env, "MUSICAPI_KEY")
    if key is None and not simulate:
        raise ConfigError(
            "MUSICAPI_KEY",
            "not set; put your MusicAPI key in .env, or set MUSICAPI_SIMULATE=1 to try the bot "
            "without one",
        )

    base_url = (_get(env, "MUSICAPI_BASE_URL") or "https://api.musicapi.ai").rstrip("/")
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError("MUSICAPI_BASE_URL", f"expected an http(s) URL, got {base_url!r}")
    if base_url.endswith("/api/v1"):
        raise ConfigError("MUSICAPI_BASE_URL", "give the API root only; /api/v1 is added for you")

    models_raw = _get(env, "MODELS")
    models = (
        tuple(m.strip() for m in models_raw.split(",") if m.strip())
        if models_raw
        else DEFAULT_MODELS
    )
    default_model = _get(env, "DEFAULT_MODEL") or "sonic-v5"
    if default_model not in models:
        models = (*models, default_model)

    dev_guild_raw = _get(env, "DEV_GUILD_ID")
    dev_guild_id = _snowflake(dev_guild_raw, "DEV_GUILD_ID") if dev_guild_raw else None
    default_sync: SyncScope = "guild" if dev_guild_id is not None else "none"
    sync_commands = _choice(env, "SYNC_COMMANDS", SYNC_SCOPES, default_sync)
    if sync_commands == "guild" and dev_guild_id is None:
        raise ConfigError("SYNC_COMMANDS", "'guild' needs DEV_GUILD_ID to name the guild")

    owners_raw = _get(env, "OWNER_IDS")
    owner_ids = frozenset(
        _snowflake(part.strip(), "OWNER_IDS")
        for part in (owners_raw or "").split(",")
        if part.strip()
    )

    first_owner = (owners_raw or "").split(",")[0].strip()
    alert_owner_id = _snowflake(first_owner, "OWNER_IDS") if first_owner else None
    alert_raw = _get(env, "OWNER_ALERT_CHANNEL_ID")
    alert_channel_id = _snowflake(alert_raw, "OWNER_ALERT_CHANNEL_ID") if alert_raw else None

    budget = _int(env, "DEFAULT_GUILD_BUDGET", 300)
    assert budget is not None
    period = _choice(env, "DEFAULT_BUDGET_PERIOD", BUDGET_PERIODS, "month")

    database_path, postgres_url = _database(env)
    discord_base = _get(env, "DISCORD_API_BASE_URL")
    if discord_base is not None and not discord_base.startswith(("http://", "https://")):
        raise ConfigError("DISCORD_API_BASE_URL", f"expected an http(s) URL, got {discord_base!r}")

    shard_count, shard_ids = _shards(env)

    return Settings(
        discord_token=token,
        musicapi_key=key,
        musicapi_base_url=base_url,
        musicapi_simulate=simulate,
        database_path=database_path,
        default_model=default_model,
        models=models,
        dev_guild_id=dev_guild_id,
        sync_commands=sync_commands,
        owner_ids=owner_ids,
        default_guild_budget=budget,
        default_budget_period=BudgetPeriod(period),
        log_level=_choice(env, "LOG_LEVEL", tuple(lv.lower() for lv in LOG_LEVELS), "info").upper(),
        poll_interval_s=_float(env, "POLL_INTERVAL_S", 15.0, minimum=0.01),
        job_timeout_s=_float(env, "JOB_TIMEOUT_S", 900.0, minimum=1.0),
        cost_overrides=_costs(env),
        discord_api_base_url=discord_base.rstrip("/") if discord_base else None,
        simulator_generation_s=_float(env, "SIMULATOR_GENERATION_S", 20.0, minimum=0.0),
        postgres_url=postgres_url,
        simulator_seed=_int(env, "SIMULATOR_SEED", None),
        shard_count=shard_count,
        shard_ids=shard_ids,
        job_lease_s=_float(env, "JOB_LEASE_S", 20.0, minimum=1.0),
        metrics_listen=_listen(env, "METRICS_LISTEN"),
        log_format=_choice(env, "LOG_FORMAT", LOG_FORMATS, "text"),
        owner_alert_channel_id=alert_channel_id,
        alert_owner_id=alert_owner_id,
        credits_low=_int(env, "MUSICAPI_CREDITS_LOW", 500) or 0,
        poll_target_lag_s=_float(env, "POLL_TARGET_LAG_S", 5.0, minimum=0.1),
        webhook_public_url=_webhook_public_url(env),
        webhook_listen=_listen(env, "WEBHOOK_LISTEN") or ("0.0.0.0", 8080),
        webhook_secret=_webhook_secret(env),
        media_hosts=_media_hosts(env),
        max_polls_per_s=_rate(env, "MUSICAPI_MAX_POLLS_PER_S", DEFAULT_MAX_POLLS_PER_S),
        database_pool_size=_int(env, "DATABASE_POOL_SIZE", 10, minimum=1) or 10,
        owner_daily_cap=_int(env, "OWNER_DAILY_CAP", None),
        allowed_guilds=_allowed_guilds(env),
    )
