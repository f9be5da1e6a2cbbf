FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/musicbot.db

RUN useradd --create-home --uid 10001 musicbot \
    && mkdir /data && chown musicbot:musicbot /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install --no-cache-dir .

USER musicbot
VOLUME ["/data"]
CMD ["python", "-m", "bot"]
