"""python -m devstack COMMAND

    services            PostgreSQL and Redis, until Ctrl-C
    run                 + migrate, seed_demo, then web, worker and beat from the Procfile, under honcho
    test [PYTEST ARGS]  + pytest; exits with pytest's code
    bench [ARGS]        + the benchmarks (python -m benchmarks)
    clean-state         remove the state dir, if nothing runs from it

DATABASE_URL / REDIS_URL name external servers; without them embedded ones run from TRACKER_STATE_DIR
(default .state/). Ctrl-C or SIGTERM stops everything this command started, the servers last.
"""

import base64
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

import psutil

from config import paths
from devstack import DevstackError, say
from devstack.servers import redact, services, wait_gone

GRACE_SECONDS = 30  # after a stop signal, before a foreground program is killed
SERVERS = ("postgres", "redis-server")
_stopping: list[int] = []  # the stop signal received


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # Raised, so that every `finally` on the way out stops what it started; only once, so that a second
    # Ctrl-C cannot cut the servers' shutdown short.
    if not _stopping:
        _stopping.append(signum)
        raise KeyboardInterrupt(signal.Signals(signum).name)


def foreground(argv: list[str], env: dict[str, str], *, session: bool = False) -> int:
    """Run a program and return its exit code: in our process group, so that it keeps the terminal (pdb,
    Ctrl-C), or in a `session` of its own, away from the terminal's signals.

    A stop signal is passed on, unless it is a Ctrl-C at our terminal, which the terminal sent the program
    too (to the whole foreground process group). A program still running GRACE_SECONDS later is killed.
    """
    proc = subprocess.Popen(argv, cwd=paths.BASE_DIR, env=env, start_new_session=session)
    while True:
        try:
            code = proc.wait(timeout=GRACE_SECONDS if _stopping else None)
            break
        except KeyboardInterrupt:
            with contextlib.suppress(OSError):  # tcgetpgrp: stdin is no terminal
                if not session and _stopping == [signal.SIGINT] and os.tcgetpgrp(0) == os.getpgrp():
                    continue
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT if _stopping == [signal.SIGINT] else signal.SIGTERM)
        except subprocess.TimeoutExpired:
            say(f"devstack: {argv[2]} still running {GRACE_SECONDS}s after the stop signal; killing it")
            proc.kill()
    # What it left running is now ours, as the subreaper (see main): honcho's programs run in sessions of
    # their own and outlive honcho if it is killed. Stop them, as honcho would have; the servers stop later.
    leftovers = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            leftovers += [] if child.name() in SERVERS else [child.pid]
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for pid in leftovers:
            with contextlib.suppress(OSError):
                os.kill(pid, signum)
        if wait_gone(*leftovers):
            break
    return code


def cmd_services(args: Sequence[str]) -> int:
    with services() as env:
        say(f"DATABASE_URL={redact(env['DATABASE_URL'])}\nREDIS_URL={redact(env['REDIS_URL'])}")
        say("services: ready; Ctrl-C stops what this command started")
        while True:
            time.sleep(3600)


def cmd_run(args: Sequence[str]) -> int:
    port = os.environ.get("PORT", "8000")
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", int(port)))
        except (OSError, ValueError):
            raise DevstackError(f"run: cannot serve on 127.0.0.1:{port} (another make run?); try PORT=8001") from None
    with services() as env:
        env.setdefault("DEBUG", "1")
        for step in (["migrate", "--noinput"], ["seed_demo"]):
            say(f"run: manage.py {' '.join(step)}")
            if code := foreground([sys.executable, "manage.py", *step], env):
                raise DevstackError(f"run: manage.py {step[0]} failed with exit code {code}")
        # The Procfile's `python` is this one; honcho reads no .env: the environment is the one given here.
        env.update(PORT=port, PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{env.get('PATH', '')}")
        say(f"run: web on http://127.0.0.1:{port}/, worker and beat (Procfile); Ctrl-C stops everything")
        # honcho gets the stop signals from us alone: a closed terminal's SIGHUP would kill it outright.
        code = foreground([sys.executable, "-m", "honcho", "start", "--env", os.devnull], env, session=True)
        return 0 if _stopping else max(code, 1)  # honcho stops the rest when one program exits, and says which


def with_services(argv: list[str]) -> int:
    with services() as env:
        # Tests and benchmarks run production-shaped (DEBUG off), which needs a key: a throw-away one.
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        # A throw-away Fernet key too (32 random bytes, url-safe base64), for the encrypted webhook secrets.
        env.setdefault("FIELD_ENCRYPTION_KEYS", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        return foreground(argv, env)


def cmd_clean_state(args: Sequence[str]) -> int:
    folders, busy = [paths.STATE_DIR, paths.socket_dir()], []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.pid != os.getpid() and any(str(folder) in cmdline for folder in folders):
            busy.append(f"  pid {proc.pid}: {cmdline[:100]}")
    if busy:
        say("\n".join([f"clean-state: {paths.STATE_DIR} is in use; stop these first:", *busy]))
        return 1
    removed = []
    for folder in folders:  # the socket dir may be inside the state dir
        if folder.exists():
            shutil.rmtree(folder)
            removed.append(str(folder))
    say(f"clean-state: removed {', '.join(removed) or 'nothing'}")
    return 0


COMMANDS = {
    "services": cmd_services,
    "run": cmd_run,
    "test": lambda args: with_services([sys.executable, "-m", "pytest", *args]),
    "bench": lambda args: with_services([sys.executable, "-m", "benchmarks", *args]),
    "clean-state": cmd_clean_state,
}


def main(argv: Sequence[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    # `test` and `bench` hand every later argument (-k, -x, even -h) to their program untouched.
    if command not in COMMANDS or (args and command not in ("test", "bench")):
        print(__doc__, file=sys.stderr)
        return 2
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    # Orphans (the postmaster once pg_ctl exits, the daemonised redis-server) become our children, not
    # init's, and servers.py reaps them: some containers' init reaps nothing, leaving <defunct> entries.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER (Linux)
    try:
        return COMMANDS[command](args)
    except KeyboardInterrupt:
        return 0 if command in ("services", "run") else 128 + (_stopping or [signal.SIGINT])[0]
    except DevstackError as exc:
        say(f"devstack: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
