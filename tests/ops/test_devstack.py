"""`python -m devstack`: embedded PostgreSQL and Redis start, keep their data, stop cleanly on SIGINT,
are shared by devstacks in other shells (the last to leave stops them), and are adopted when the
devstack that started them died; `run` serves web, worker and beat, and SIGTERM stops all of it.

These tests never touch Django's test database: each runs a throw-away stack of its own in a short
temp dir (unix socket paths are limited to ~100 bytes) and talks to it with psycopg / redis-py.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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

pytestmark = pytest.mark.devstack


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


def running(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for proc in processes:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            pass
    return alive


class Devstack:
    """One `python -m devstack COMMAND` process, its output in a log file."""

    def __init__(self, state: Path, log: Path, command: str = "services", **env: str) -> None:
        environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
        environ.update(TRACKER_STATE_DIR=str(state), **env)
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "devstack", command],
                cwd=ROOT,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.proc.poll() is None, f"devstack exited with {self.proc.returncode}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {text!r} after {timeout}s:\n{self.output()}"
            time.sleep(0.1)

    def wait_ready(self, state: Path) -> None:
        self.wait_for(READY_LINE)
        with postgres(state) as conn:
            conn.execute("SELECT 1")
        assert redis_client(state).ping()

    def stop(self, signum: int = signal.SIGINT) -> int:
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"devstack still running {STOP_TIMEOUT}s after {signal.Signals(signum).name}:\n{self.output()}")

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
        host=str(state / "pgdata"), user="postgres", dbname="postgres", autocommit=True, connect_timeout=5
    )


def redis_client(state: Path) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(state / "run" / "redis.sock"), socket_timeout=5)


StateDir = tuple[Path, list[Devstack]]


def cleanup(state: Path, started: list[Devstack]) -> None:
    """Whatever happened, leave no servers and no temp dir behind."""
    for devstack in started:
        devstack.kill()
    for proc in stack_processes(state):
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def state_dir() -> Iterator[StateDir]:
    state = Path(tempfile.mkdtemp(prefix="vtv"))
    started: list[Devstack] = []
    yield state, started
    try:
        cleanup(state, started)
    except KeyboardInterrupt:  # a Ctrl-C mid-cleanup must not leave servers or files behind
        cleanup(state, started)
        raise


def start(fixture: StateDir, name: str) -> Devstack:
    state, started = fixture
    devstack = Devstack(state, state / f"devstack-{name}.log")
    started.append(devstack)
    devstack.wait_ready(state)
    return devstack


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

    assert first.stop() == 0, first.output()
    assert not running(servers)
    assert not stack_processes(state)

    second = start(state_dir, "second")
    assert "postgres: started" in second.output()  # a fresh server on the existing data
    with postgres(state) as conn:
        assert conn.execute("SELECT value FROM marker").fetchall() == [("kept",)]
    assert redis_client(state).get("marker") == b"kept"
    refused = clean_state(state)
    assert refused.returncode == 1 and "is in use" in refused.stdout, refused.stdout
    assert (state / "pgdata" / "PG_VERSION").exists()

    assert second.stop() == 0, second.output()
    assert not stack_processes(state)
    assert clean_state(state).returncode == 0
    assert not state.exists()


def clean_state(state: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TRACKER_STATE_DIR=str(state))
    command = [sys.executable, "-m", "devstack", "clean-state"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_the_servers_run_until_the_last_devstack_using_them_stops(state_dir: StateDir) -> None:
    state, _ = state_dir
    starter = start(state_dir, "starter")
    servers = stack_processes(state)
    first_borrower = start(state_dir, "first-borrower")
    second_borrower = start(state_dir, "second-borrower")
    for borrower in (first_borrower, second_borrower):
        assert "postgres: reused" in borrower.output()
        assert "redis: reused" in borrower.output()

    for leaving in (first_borrower, starter):  # a borrower, then the one that started them
        assert leaving.stop() == 0, leaving.output()
        assert "postgres: left running" in leaving.output()
        assert "redis: left running" in leaving.output()
        assert len(running(servers)) == len(servers)
        with postgres(state) as conn:
            conn.execute("SELECT 1")
        assert redis_client(state).ping()

    assert second_borrower.stop() == 0, second_borrower.output()
    assert "postgres: stopped" in second_borrower.output()
    assert "redis: stopped" in second_borrower.output()
    assert not running(servers)
    assert not stack_processes(state)


def test_servers_left_by_a_devstack_that_died_are_adopted_and_stopped(state_dir: StateDir) -> None:
    state, _ = state_dir
    dead = start(state_dir, "dead")
    servers = stack_processes(state)
    dead.proc.kill()  # SIGKILL: no chance to stop anything
    dead.proc.wait()
    assert len(running(servers)) == len(servers)

    heir = start(state_dir, "heir")
    assert "postgres: adopted" in heir.output()
    assert "redis: adopted" in heir.output()
    assert heir.stop() == 0, heir.output()
    assert not running(servers)
    assert not stack_processes(state)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_run_serves_web_worker_and_beat_and_sigterm_stops_all_of_it(state_dir: StateDir) -> None:
    state, started = state_dir
    port = free_port()
    # Production-shaped (DEBUG off): seed_demo then skips the demo users, whose password hashing is slow on purpose.
    env = {"PORT": str(port), "DEBUG": "0", "SECRET_KEY": "run-test", "ALLOWED_HOSTS": "127.0.0.1"}
    run = Devstack(state, state / "devstack-run.log", "run", **env)
    started.append(run)
    run.wait_for("worker.1 | ", timeout=300)  # migrate and seed_demo on a new database first (slow on a busy machine)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health/", timeout=5) as response:
                assert response.status == 200
                break
        except OSError:
            assert time.monotonic() < deadline, run.output()
            time.sleep(0.2)
    run.wait_for("celery@", timeout=60)
    run.wait_for("beat: Starting", timeout=60)
    everything = psutil.Process(run.proc.pid).children(recursive=True)
    names = " ".join(" ".join(proc.cmdline()) for proc in everything)
    assert all(program in names for program in ("runserver", "celery -A config worker", "celery -A config beat"))

    assert run.stop(signal.SIGTERM) == 0, run.output()
    assert not running(everything), run.output()
    assert "redis: stopped" in run.output()
    assert "postgres: stopped" in run.output()
