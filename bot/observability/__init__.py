"""What an operator watches: Prometheus metrics, /healthz, JSON logs, owner alerts.

- `metrics`: every metric the bot exports, with one small function per event to record;
- `server`: the aiohttp server on METRICS_LISTEN (`/metrics`, `/healthz`);
- `health`: what /healthz checks (gateway, database, scheduler loop);
- `logs`: text or JSON log lines, job/guild/task ids from context, secrets redacted;
- `alerts`: rate-limited messages to the bot owner, and `incidents.unexpected_error`;
- `upstream`: MusicAPI request outcomes, last error, outage and credit watch;
- `loop_lag` and `discord_limits`: event-loop lag and Discord 429s.
"""
