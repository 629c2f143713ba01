# news-monitor as a container: non-root, read-only root filesystem, state in the /data volume,
# config and rules mounted read-only at /config. See README "Running in a container".

# python:3.12-slim follows the latest 3.12 patch release (3.12.5 fixed an email header-injection
# bug); rebuild with `docker build --pull` to pick up new ones.

# -- builder: a virtualenv with the package and its dependencies -------------------------------
FROM python:3.12-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# tini-static has no library dependencies, so the final stage can take the binary alone.
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/news-monitor
WORKDIR /src
COPY pyproject.toml README.md ./
COPY monitor/ monitor/
RUN /opt/news-monitor/bin/pip install -q . \
 && /opt/news-monitor/bin/pip uninstall -q -y pip

# -- final: no compilers, no pip, no apt lists ----------------------------------------------------
FROM python:3.12-slim
COPY --from=builder /usr/bin/tini-static /usr/bin/tini
COPY --from=builder /opt/news-monitor /opt/news-monitor
COPY config.yaml /config/config.yaml
COPY rules/ /config/rules/
RUN useradd --uid 10001 --user-group --home-dir /data --no-create-home news-monitor \
 && mkdir -p /data \
 && chown news-monitor:news-monitor /data

# The shipped config.yaml reads its state path from NEWS_MONITOR_STATE, so the SQLite file
# (and its WAL and heartbeat beside it) land in the volume. TMPDIR points there too because
# --read-only leaves no writable /tmp under Docker.
ENV PATH=/opt/news-monitor/bin:$PATH \
    NEWS_MONITOR_CONFIG=/config/config.yaml \
    NEWS_MONITOR_STATE=/data/news-monitor.db \
    TMPDIR=/data \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
VOLUME /data
WORKDIR /data
USER news-monitor:news-monitor
EXPOSE 8080

# Fails when the scheduler loop stops ticking (its heartbeat file in /data goes stale),
# not merely when the process is gone.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["news-monitor", "healthcheck"]

# tini is PID 1: it forwards SIGTERM to the daemon and reaps children.
ENTRYPOINT ["/usr/bin/tini", "--", "news-monitor"]
CMD ["run", "--config", "/config/config.yaml"]
