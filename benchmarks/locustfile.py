"""Load for one operation of `make bench` (locust, headless): `BENCH_OPERATION` names it, `BENCH_SPEC` (a JSON
file the benchmark writes) says what to send. Every simulated user sends the same requests to our server and to
the baseline; the `X-Bench-Op` header names the operation for the baseline."""

import json
import os
from datetime import UTC, datetime
from itertools import count

from locust import FastHttpUser, constant, task

SPEC = json.load(open(os.environ["BENCH_SPEC"], encoding="utf-8"))[os.environ["BENCH_OPERATION"]]
USERS = count()


class Client(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        # Each user takes a client of its own (a unit, a patient) while there are enough: no two users wait on
        # the same row lock, and a unit's custody steps stay in order.
        self.me = SPEC["clients"][next(USERS) % len(SPEC["clients"])]
        self.step = 0
        self.headers = {"Authorization": f"Token {self.me['token']}", "X-Bench-Op": os.environ["BENCH_OPERATION"]}

    def _request(self) -> tuple[str, str, dict | None]:
        """(method, path, body): a read is one path; a write has a cycle of bodies (e.g. a unit shipped and
        received, back and forth), with `at`/`assessed_at` set to now."""
        path, steps = self.me["path"], self.me.get("steps")
        if not steps:
            return "GET", path, None
        body = dict(steps[self.step % len(steps)])
        self.step += 1
        for field in ("at", "assessed_at"):
            if field in body:
                body[field] = datetime.now(UTC).isoformat()
        return "POST", path, body

    @task
    def operation(self) -> None:
        method, path, body = self._request()
        with self.client.request(
            method, path, headers=self.headers, json=body, name=os.environ["BENCH_OPERATION"], catch_response=True
        ) as response:
            if response.status_code not in (200, 201):
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
