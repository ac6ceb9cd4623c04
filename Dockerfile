# cancelamento-worker: the long-running worker in a small image.
#
#   docker build -t cancelamento-worker .
#   docker run -d --name cancelamento --restart unless-stopped --env-file worker.env \
#     -v cancelamento-state:/app/state -p 9100:9100 cancelamento-worker
#
# Secrets come from the environment (--env-file), never from the image. See docs/operations.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 worker \
    && useradd --system --uid 10001 --gid worker --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin worker

WORKDIR /app

# The package and its runtime dependencies (no test extras). Installed in place (editable) so
# that the configuration and templates resolve from /app, the project root, whichever way the
# worker is started (`python -m worker` or the `cancelamento-worker` script).
COPY pyproject.toml README.md ./
COPY worker/ worker/
RUN pip install -e . \
    && python -m compileall -q worker

COPY templates/ templates/
COPY config/ config/

# The state directory (poll cursor, tickets to retry, lock, PAUSE file): only ids, no personal
# data. Owned by the worker so that a new named volume inherits it.
RUN mkdir -p /app/state && chown worker:worker /app/state
VOLUME /app/state

ENV WORKER_STATE_DIR=/app/state \
    WORKER_LOG_FORMAT=json \
    WORKER_METRICS_PORT=9100
EXPOSE 9100

USER worker

# No curl in the slim image: Python asks /healthz; a 503 (no successful poll for too long) or no
# answer makes urlopen raise, so the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('WORKER_METRICS_PORT', '9100') + '/healthz', timeout=4)"]

# SIGTERM (docker stop) ends the run cleanly between tickets.
CMD ["python", "-m", "worker", "run"]
