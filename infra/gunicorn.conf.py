"""gunicorn settings for the nyby web process: `gunicorn -c infra/gunicorn.conf.py wsgi:app`.

Everything that differs between environments comes from the environment:

    GUNICORN_WORKERS      processes (default: WEB_CONCURRENCY, else 2 x CPUs + 1, at most 8)
    GUNICORN_THREADS      threads per process (default 4; 1 means sync workers)
    GUNICORN_TIMEOUT      seconds before a silent worker is killed and replaced (default 30)
    GUNICORN_BIND         default 0.0.0.0:8000
    GUNICORN_CONTROL_SOCKET  path of gunicorn's control socket (default: none)
    FORWARDED_ALLOW_IPS   proxies whose X-Forwarded-* headers are trusted (default 127.0.0.1;
                          set it to the ingress or load balancer addresses)

Set SECRET_KEY and JWT_PRIVATE_KEY in production: without them each worker process
would fall back to keys kept in NYBY_DATA_DIR, which is meant for one local process.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Requests spend most of their time waiting on PostgreSQL and Redis, so a few threads
# per process serve more at once for little memory. The app creates no connection at
# import time, but preload_app stays off all the same: each worker builds its own
# engine and pool after the fork, so no socket is ever shared between processes.
workers = _int(
    "GUNICORN_WORKERS",
    _int("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)),
)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
preload_app = False

timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then, so a slow leak cannot grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# The heartbeat file on tmpfs: container root filesystems may be read-only or slow.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# gunicorn >= 25 opens a control socket under $HOME by default; the container's home is
# read-only and nothing uses gunicornc there. GUNICORN_CONTROL_SOCKET=/path turns it on.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto/For only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs go to stdout/stderr for the container runtime to collect.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The access log names the path only (%(U)s), never the query string (%(q)s, or the
# request line %(r)s that contains it), nor the Referer, which carries another page's
# query string: query strings may hold tokens, emails or a client's details. %(M)s is
# the request time in milliseconds.
access_log_format = '%(h)s - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
proc_name = "nyby-web"
