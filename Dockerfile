# syntax=docker/dockerfile:1
# paperbot: multi-stage image. The install step is the README's (`pip install .`), which CI proves.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY paperbot ./paperbot
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PAPERBOT_HTTP__HOST=0.0.0.0 \
    PAPERBOT_HTTP__PORT=3000 \
    PAPERBOT_DATABASE_URL=sqlite:////data/paperbot.db \
    PAPERBOT_CONFIG=/app/config/paperbot.toml
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
 && useradd --create-home --uid 10001 paperbot \
 && mkdir -p /data && chown paperbot /data
WORKDIR /app
COPY config ./config
USER 10001
WORKDIR /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PAPERBOT_HTTP__PORT', '3000')}/healthz\", timeout=4)"]
ENTRYPOINT ["paperbot"]
CMD ["run", "--no-console"]
