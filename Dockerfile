# syntax=docker/dockerfile:1
# A pinned base: this patch release of Python on Debian 12, not whatever "3.11" means on the
# day of the build. Bump it deliberately (and rebuild) for security releases.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////data/musicbot.db \
    METRICS_LISTEN=0.0.0.0:9100

RUN useradd --create-home --uid 10001 musicbot \
    && mkdir /data && chown musicbot:musicbot /data

# DejaVu Sans for the /quota usage chart: member names with accents and most scripts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# The dependencies in their own layer, read from pyproject.toml alone: changing the code does
# not reinstall them. EXTRAS names optional groups ("postgres" for DATABASE_URL=postgresql://).
ARG EXTRAS=postgres
COPY pyproject.toml ./
RUN python - <<'PY' > /tmp/requirements.txt && pip install -r /tmp/requirements.txt
import os, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
wanted = list(project["dependencies"])
for extra in filter(None, os.environ.get("EXTRAS", "").split(",")):
    wanted += project["optional-dependencies"][extra.strip()]
print("\n".join(wanted))
PY

# Then the code, installed without touching the dependencies again.
COPY README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install --no-deps . && rm -rf /app/build

USER musicbot
VOLUME ["/data"]
# Keep 9100 private: publish it only to Prometheus' network, never to the internet.
EXPOSE 9100

# /healthz: gateway connected, database answering, job scheduler running.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["musicbot", "healthcheck"]

# Exec form, no shell in between: SIGTERM from `docker stop` reaches Python, which stops
# cleanly (jobs stay in the database). Compose adds `init: true` for signals during start-up.
STOPSIGNAL SIGTERM
CMD ["musicbot"]
