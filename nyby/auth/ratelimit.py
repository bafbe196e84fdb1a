"""Failed-login counting over a sliding minute, in Redis or (embedded) in memory."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Protocol

import redis

WINDOW_SECONDS = 60


class FailureCounter(Protocol):
    def count(self, key: str) -> int: ...
    def add(self, key: str) -> None: ...
    def clear(self, key: str) -> None: ...


class MemoryFailureCounter:
    """Per process: right for the embedded single-process default, not for gunicorn workers."""

    def __init__(self) -> None:
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        events = self._events[key]
        while events and events[0] <= now - WINDOW_SECONDS:
            events.popleft()
        return events

    def count(self, key: str) -> int:
        with self._lock:
            return len(self._trim(key, time.monotonic()))

    def add(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._trim(key, now).append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


class RedisFailureCounter:
    """Shared by every worker: a sorted set of failure times per key."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def _name(self, key: str) -> str:
        return f"nyby:login-failures:{key}"

    def count(self, key: str) -> int:
        name = self._name(key)
        pipe = self._redis.pipeline()
        pipe.zremrangebyscore(name, 0, time.time() - WINDOW_SECONDS)
        pipe.zcard(name)
        return int(pipe.execute()[1])

    def add(self, key: str) -> None:
        name, now = self._name(key), time.time()
        pipe = self._redis.pipeline()
        pipe.zadd(name, {f"{now:.6f}:{id(pipe)}": now})
        pipe.expire(name, WINDOW_SECONDS)
        pipe.execute()

    def clear(self, key: str) -> None:
        self._redis.delete(self._name(key))
