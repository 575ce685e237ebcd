"""`python -m config.devstack services`: embedded PostgreSQL and Redis start, keep their data,
stop cleanly on SIGINT, and are shared (not stopped) by a second stack in another shell.

These tests never touch Django's database: each runs a throw-away stack of its own in a short
temp dir (unix socket paths are limited to ~100 bytes) and talks to it with psycopg / redis-py.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "services: ready"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


def stack_processes(state: Path) -> list[psutil.Process]:
    """postgres / redis-server processes serving `state`, with the postmaster's children."""
    found: dict[int, psutil.Process] = {}
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] in ("postgres", "redis-server") and str(state) in " ".join(proc.info["cmdline"] or []):
            found[proc.pid] = proc
            try:
                found.update({child.pid: child for child in proc.children(recursive=True)})
            except psutil.NoSuchProcess:
                pass
    return list(found.values())


class Services:
    """One `python -m config.devstack services` process, its output in a log file."""

    def __init__(self, state: Path, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env["TRACKER_STATE_DIR"] = str(state)
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "config.devstack", "services"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_ready(self, state: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while READY_LINE not in self.output():
            assert self.proc.poll() is None, f"services exited with {self.proc.returncode}:\n{self.output()}"
            assert time.monotonic() < deadline, f"services not ready after {START_TIMEOUT}s:\n{self.output()}"
            time.sleep(0.1)
        with postgres(state) as conn:
            conn.execute("SELECT 1")
        assert redis_client(state).ping()

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"services still running {STOP_TIMEOUT}s after SIGINT:\n{self.output()}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def postgres(state: Path) -> psycopg.Connection:
    return psycopg.connect(
        host=str(state / "run"), user="postgres", dbname="postgres", autocommit=True, connect_timeout=5
    )


def redis_client(state: Path) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(state / "run" / "redis.sock"), socket_timeout=5)


StateDir = tuple[Path, list["Services"]]


def cleanup(state: Path, started: list["Services"]) -> None:
    """Whatever happened, leave no servers and no temp dir behind."""
    for services in started:
        services.kill()
    for proc in stack_processes(state):
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def state_dir() -> Iterator[StateDir]:
    state = Path(tempfile.mkdtemp(prefix="vtv"))
    started: list[Services] = []
    yield state, started
    try:
        cleanup(state, started)
    except KeyboardInterrupt:  # a Ctrl-C mid-cleanup must not leave servers or files behind
        cleanup(state, started)
        raise


def start(fixture: StateDir, name: str) -> Services:
    state, started = fixture
    services = Services(state, state / f"devstack-{name}.log")
    started.append(services)
    services.wait_ready(state)
    return services


def test_services_keep_data_and_stop_cleanly(state_dir: StateDir) -> None:
    state, _ = state_dir
    first = start(state_dir, "first")
    assert "postgres: started" in first.output()
    assert "redis: started" in first.output()
    with postgres(state) as conn:
        conn.execute("CREATE TABLE marker (value text)")
        conn.execute("INSERT INTO marker VALUES ('kept')")
    redis_client(state).set("marker", "kept")
    servers = stack_processes(state)
    assert {proc.name() for proc in servers} >= {"postgres", "redis-server"}

    assert first.interrupt() == 0, first.output()
    survivors = [proc for proc in servers if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE]
    assert not survivors, survivors
    assert not stack_processes(state)

    second = start(state_dir, "second")
    assert "postgres: started" in second.output()  # a fresh server on the existing data
    with postgres(state) as conn:
        assert conn.execute("SELECT value FROM marker").fetchall() == [("kept",)]
    assert redis_client(state).get("marker") == b"kept"
    assert second.interrupt() == 0, second.output()
    assert not stack_processes(state)


def test_second_services_borrows_and_leaves_servers_running(state_dir: StateDir) -> None:
    state, _ = state_dir
    first = start(state_dir, "owner")
    servers = stack_processes(state)

    second = start(state_dir, "borrower")
    assert "postgres: reused" in second.output()
    assert "redis: reused" in second.output()
    assert second.interrupt() == 0, second.output()
    assert "postgres: left running (borrowed)" in second.output()
    assert "redis: left running (borrowed)" in second.output()
    assert all(proc.is_running() for proc in servers)
    with postgres(state) as conn:
        conn.execute("SELECT 1")
    assert redis_client(state).ping()

    assert first.interrupt() == 0, first.output()
    assert not stack_processes(state)
