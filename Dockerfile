# Plain Dockerfile syntax only (no `syntax` directive, heredoc or RUN --mount): the classic
# builder of Docker 20.10 and docker-compose 1.29 (Debian's and Ubuntu's own packages) reads
# it, and BuildKit builds it without fetching a frontend image, so nothing but the base image
# comes from a registry. tests/unit/test_dockerfile.py keeps it that way.

# A pinned base: this patch release of Python on Debian 12, not whatever "3.11" means on the
# day of the build. Bump it deliberately (and rebuild) for security releases.
FROM python:3.11.14-slim-bookworm

# Where the image was built from: pass --build-arg SOURCE_URL=<repository address> when
# publishing it. The version follows pyproject.toml (a test checks that they agree).
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="musicbot" \
      org.opencontainers.image.description="A Discord bot for AI music through MusicAPI, with per-server credit quotas" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE_URL}"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////data/musicbot.db \
    METRICS_LISTEN=0.0.0.0:9100

# The bot's user (uid 10001) owns /data, the volume. /app/data points there too, so the
# relative DATABASE_URL=sqlite:///data/musicbot.db of .env.example (relative to /app, the
# working directory) is the same file as the image's own sqlite:////data/musicbot.db.
RUN useradd --create-home --uid 10001 musicbot \
    && mkdir /data /app && chown musicbot:musicbot /data && ln -s /data /app/data

# DejaVu Sans for the /quota usage chart: member names with accents and most scripts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# The dependencies exactly as locked (versions and hashes, made from pyproject.toml by
# pip-compile: README, "Docker"), in a layer of their own: only a change to requirements.lock
# installs them again; the code and pyproject.toml are not part of it. Hash-checking also makes
# pip refuse any dependency the lock does not pin. Then `musicbot`, pyproject.toml's console
# script, and a .pth that puts /app on Python's path: the code below needs no build step, so
# a code-only rebuild needs no network.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes --only-binary=:all: -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock \
    && echo /app > "$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/musicbot.pth" \
    && printf '#!/usr/local/bin/python\nimport sys\n\nfrom bot.cli import main\n\nsys.exit(main())\n' \
        > /usr/local/bin/musicbot \
    && chmod 0755 /usr/local/bin/musicbot

# Then the code, as it is in the repository and nothing else.
WORKDIR /app
COPY bot ./bot
COPY cogs ./cogs

USER musicbot
VOLUME ["/data"]
# Keep 9100 private: publish it only to Prometheus' network, never to the internet.
EXPOSE 9100

# /healthz answers from the first second: 503 with the start-up step ("starting: logging in
# to Discord (attempt 3, next in 20 s)"), then gateway connected, database answering, job
# scheduler running.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["musicbot", "healthcheck"]

# Exec form, no shell in between: SIGTERM from `docker stop` reaches Python, which stops
# cleanly (jobs stay in the database). Compose adds `init: true` for signals during start-up.
STOPSIGNAL SIGTERM
CMD ["musicbot"]
