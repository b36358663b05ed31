"""The load test's users (locust), run by ``bench/load_test.py``; not meant to be run alone.

Each simulated user is one key emitting entity, signed in (a session made by the set-up, TOTP-verified,
with a CSRF token), acting on its own account through the API:

- ``holdings``  GET  /api/v1/registry/accounts/{own}/holdings                          (weight 5)
- ``transfer``  POST /api/v1/registry/transfers, 1–10 t of its registry position to another entity,
  a fresh idempotency key; one in ten is sent a second time with the same key (``transfer retry``),
  which must answer the same journal entry                                             (weight 2)
- ``order``     POST /api/v1/trading/orders, a listing quote, buy or sell, 94.00–96.00 CNY, 1–20 t  (weight 2)
- ``board`` + ``take``  GET the best-five board, take 1–20 t of a quote it may take      (weight 1)

An answer is a **refusal** when it is a numbered business refusal (422/403 with ``{"code": …}``: another
user took the quote first, …), counted by code and not as an error; an **error** is anything else that is
not 2xx (5xx, a connection failure, an unexpected status or body) or an idempotent retry that answers a
different entry. Counts go to ``LOAD_COUNTS_FILE`` when locust quits. Users: ``LOAD_USERS_FILE`` (JSON).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from collections import Counter, defaultdict

from locust import FastHttpUser, between, events, task

USERS = json.loads(open(os.environ["LOAD_USERS_FILE"], encoding="utf-8").read())
ACCOUNTS = [u["account"] for u in USERS["users"]]
UNIT_TYPE, INSTRUMENT = USERS["unit_type"], USERS["instrument"]
_next = itertools.count()
REFUSED: dict[str, Counter] = defaultdict(Counter)
ERRORS: dict[str, Counter] = defaultdict(Counter)


def _refusal_code(resp) -> str | None:
    if resp.status_code not in (403, 409, 422):
        return None
    try:
        body = resp.json()
    except Exception:  # noqa: BLE001 - not JSON: not a numbered refusal
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) and code else None


def _judge(resp, name: str) -> bool:
    """Mark the answer success / refusal (success, counted) / error (failure); True if 2xx."""
    if 200 <= resp.status_code < 300:
        resp.success()
        return True
    code = _refusal_code(resp)
    if code is not None:
        REFUSED[name][code] += 1
        resp.success()
        return False
    ERRORS[name][str(resp.status_code)] += 1
    resp.failure(f"{resp.status_code}: {(resp.text or '')[:200]}")
    return False


class Entity(FastHttpUser):
    wait_time = between(0.1, 0.5)  # a user's pace between requests (seconds)

    def on_start(self) -> None:
        me = USERS["users"][next(_next) % len(USERS["users"])]
        self.account = me["account"]
        self.others = [a for a in ACCOUNTS if a != self.account]
        self.rng = random.Random(self.account)
        self.headers = {"Cookie": f"sessionid={me['session']}; csrftoken={me['csrf']}", "X-CSRFToken": me["csrf"],
                        "Referer": self.host + "/"}

    @task(5)
    def holdings(self) -> None:
        with self.client.get(f"/api/v1/registry/accounts/{self.account}/holdings", headers=self.headers, name="holdings",
                             catch_response=True) as r:
            _judge(r, "holdings")

    @task(2)
    def transfer(self) -> None:
        body = {"key": f"load-{uuid.uuid4().hex}", "from_account": self.account, "to_account": self.rng.choice(self.others),
                "unit_type": UNIT_TYPE, "quantity": self.rng.randint(1, 10), "reference": "load test 变更"}
        with self.client.post("/api/v1/registry/transfers", json=body, headers=self.headers, name="transfer", catch_response=True) as r:
            ok = _judge(r, "transfer")
            first = r.json()["seq"] if ok else None
        if ok and self.rng.random() < 0.1:
            with self.client.post("/api/v1/registry/transfers", json=body, headers=self.headers, name="transfer retry",
                                  catch_response=True) as r:
                if _judge(r, "transfer retry") and r.json()["seq"] != first:
                    ERRORS["transfer retry"]["different entry"] += 1
                    r.failure(f"same key answered entry {r.json()['seq']}, first {first}")

    @task(2)
    def order(self) -> None:
        body = {"key": f"load-{uuid.uuid4().hex}", "instrument": INSTRUMENT, "method": "listing", "side": self.rng.choice("BS"),
                "price": f"{self.rng.randint(9_400, 9_600) / 100:.2f}", "quantity_t": self.rng.randint(1, 20)}
        with self.client.post("/api/v1/trading/orders", json=body, headers=self.headers, name="order", catch_response=True) as r:
            _judge(r, "order")

    @task(1)
    def take(self) -> None:
        with self.client.get(f"/api/v1/trading/board?instrument={INSTRUMENT}", headers=self.headers, name="board", catch_response=True) as r:
            if not _judge(r, "board"):
                return
            board = r.json()
        quotes = [q for side in ("asks", "bids") for lv in board.get(side, []) for q in lv.get("quotes", []) if q.get("takeable")]
        if not quotes:
            return
        q = self.rng.choice(quotes)
        body = {"key": f"load-{uuid.uuid4().hex}", "quote": q["seq"], "quantity_t": self.rng.randint(1, min(20, q["remaining_t"]))}
        with self.client.post("/api/v1/trading/take", json=body, headers=self.headers, name="take", catch_response=True) as r:
            _judge(r, "take")


@events.quitting.add_listener
def _write_counts(environment, **_kw) -> None:
    path = os.environ.get("LOAD_COUNTS_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"refused": {k: dict(v) for k, v in REFUSED.items()}, "errors": {k: dict(v) for k, v in ERRORS.items()}}, f)
