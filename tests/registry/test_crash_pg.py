"""Crash test, on PostgreSQL: ``kill -9`` the serving process group (gunicorn master and workers) in
the middle of a load of transfers through the HTTP API, restart it, and check that

- every transfer acknowledged (HTTP 200) to a client before the kill is in the journal, exactly once,
  with the content the client sent;
- retries of the requests in flight at the kill, with the same key and content, answer 200 (done
  before the kill, or done now) and never post twice; the same key with other content answers 422 R0401;
- no holding is negative, Σ holdings of the vintage = its cap, and the audit proves the ledger, both
  in-process and through ``cets audit verify``.

The real server (``cets serve``, gunicorn, 2 sync workers) runs as a subprocess in its own process
group on 127.0.0.1, against the test database pytest-django created; clients are stdlib urllib with
a cookie jar (login form, session cookie, ``X-CSRFToken``).
"""

from __future__ import annotations

import datetime as dt
import http.client
import http.cookiejar
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django_otp.oath import TOTP

from cets.core.uscc import check_character
from cets.parties.models import Organisation, Role
from cets.parties.services import member_create, totp_device_ensure
from cets.registry.audit import audit_verify
from cets.registry.models import Account, AccountKind, DelayedTransfer, Holding, Instrument, Position, Transfer, TransferKind, TrustedAccount
from cets.registry.services import (
    Leg,
    account_open,
    delayed_transfers_release_due,
    system_account,
    system_accounts_ensure,
    transfer_post,
    vintage_create,
)

ENTITIES, CLIENTS, START = 20, 8, 100_000
LOAD_SECONDS = 2.5  # of load before the kill
READY_TIMEOUT = 20.0  # for the server to answer after a (re)start
HTTP_TIMEOUT = 15.0  # per request (generous: the machine may be busy with other suites)
PASSWORD = "crash-test-password-7391"
VINTAGE = "2031"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the crash test runs the real server on PostgreSQL"),
]

CONNECTION_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError)  # URLError covers refused; OSError resets, timeouts


def uscc(i: int) -> str:
    body = f"9137000{7_000_000 + i:010d}"
    return body + check_character(body)


def _cets_script() -> str:
    """The ``cets`` console script of the interpreter running the tests (the project's venv)."""
    for candidate in (Path(sys.executable).parent / "cets", Path(__file__).resolve().parents[2] / ".venv" / "bin" / "cets"):
        if candidate.exists():
            return str(candidate)
    pytest.fail("the cets console script was not found next to the Python interpreter")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(var_dir: Path) -> dict[str, str]:
    """The environment of the server and CLI: the test database of this run, a private var dir."""
    sd = connection.settings_dict
    q = urllib.parse.quote
    auth = f"{q(sd['USER'] or '', safe='')}:{q(sd['PASSWORD'] or '', safe='')}"
    url = f"postgresql://{auth}@{sd['HOST'] or '127.0.0.1'}:{sd['PORT'] or 5432}/{q(sd['NAME'], safe='')}"
    env = dict(os.environ)
    env.update(CETS_DATABASE_URL=url, CETS_VAR_DIR=str(var_dir), CETS_DEBUG="0", CETS_ALLOWED_HOSTS="127.0.0.1,localhost")
    env.pop("CETS_SECRET_KEY", None)  # kept in var_dir: the same key across the restart, so sessions survive it
    return env


class Server:
    """``cets serve`` in its own process group, so that the master and its workers die together."""

    def __init__(self, *, port: int, env: dict[str, str], log: Path):
        self.port, self.env, self.log = port, env, log
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def start(self) -> float:
        """Start and wait until it answers; returns the seconds it took."""
        assert self.proc is None
        t0 = time.monotonic()
        self.starts += 1
        with self.log.open("a") as fh:
            fh.write(f"\n===== start {self.starts} =====\n")
            fh.flush()
            self.proc = subprocess.Popen(
                [_cets_script(), "serve", "--addr", f"127.0.0.1:{self.port}", "--workers", "2"],
                env=self.env, cwd=self.env["CETS_VAR_DIR"], stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = t0 + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"cets serve exited with {self.proc.returncode} before answering:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base + "/login/", timeout=5.0) as r:
                    if r.status == 200:
                        return time.monotonic() - t0
            except CONNECTION_ERRORS:
                pass
            time.sleep(0.1)
        pytest.fail(f"cets serve did not answer within {READY_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def _group_gone(self, pgid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:  # only zombies of another parent left, or the id was reused
                return True
            time.sleep(0.05)
        return False

    def _port_closed(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                return True
            time.sleep(0.05)
        return False

    def kill9(self) -> None:
        """SIGKILL the master and every worker at once."""
        assert self.proc is not None
        pgid = self.proc.pid  # start_new_session: the master leads its own group
        os.killpg(pgid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None
        self._group_gone(pgid, 5.0)
        assert self._port_closed(5.0), "the port still accepts connections after kill -9 of the process group"

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL after a timeout; never leaves a process behind."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        pgid = proc.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:  # the master is gone (or hung): kill whatever is left of the group
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._group_gone(pgid, 5.0)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the login answers 302; the session cookie is what we need, not the dashboard


class Client:
    """One browser-like client: its own cookie jar (session + CSRF cookie)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def login(self, username: str, password: str, otp_token: str = "") -> None:
        with self.opener.open(self.base + "/login/", timeout=HTTP_TIMEOUT) as r:
            r.read()
        token = self.cookie("csrftoken")
        assert token, "GET /login/ set no csrftoken cookie"
        data = urllib.parse.urlencode({"username": username, "password": password, "otp_token": otp_token, "csrfmiddlewaretoken": token, "next": ""}).encode()
        try:
            with self.opener.open(urllib.request.Request(self.base + "/login/", data=data), timeout=HTTP_TIMEOUT) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        assert status == 302 and self.cookie("sessionid"), f"login of {username} failed: HTTP {status} {body[:300]!r}"

    def transfer(self, body: dict) -> tuple[int, dict]:
        """POST a transfer; (status, JSON answer). Connection errors propagate."""
        req = urllib.request.Request(
            self.base + "/api/v1/registry/transfers", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken") or ""},
        )
        try:
            with self.opener.open(req, timeout=HTTP_TIMEOUT) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, {"raw": raw[:300].decode(errors="replace")}


@pytest.mark.argon2  # the real server verifies these passwords with the production hasher
@pytest.mark.django_db(transaction=True)
def test_kill_9_during_load_loses_no_acknowledged_transfer(tmp_path):
    t_start = time.monotonic()
    stats: dict[str, float] = {}
    # ---- a world, committed (transaction=True) so that the server process sees it
    system_accounts_ensure(market="national")
    cap = ENTITIES * START
    ut = vintage_create(instrument=Instrument.CEA, vintage=VINTAGE, cap_t=cap, key="cap-crash")
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    numbers, users, devices = [], [], []
    for i in range(ENTITIES):
        org = Organisation.objects.create(uscc=uscc(i), name=f"崩溃测试{i}", kind=Organisation.Kind.ENTITY, province="37")
        acc = account_open(holder=org)
        transfer_post(key=f"crash-seed-{i}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                      credit=Leg(acc, Position.REGISTRY), quantity=START)
        # one user per entity, acting for it; the argon2 hash (~0.5 s) is computed once and shared
        u = member_create(username=f"crash{i}", organisation=org, role=Role.ENTITY, password=PASSWORD if i == 0 else None)
        devices.append(totp_device_ensure(user=u)[0])  # holders sign in with a TOTP code (issue 16)
        numbers.append(acc.number)
        users.append(f"crash{i}")
    User = get_user_model()
    User.objects.filter(username__in=users[1:]).update(password=User.objects.get(username=users[0]).password)
    # holder protection (issue 16): every entity trusts every other, active already; each transfer is an instruction,
    # held at once (the answer's seq is the hold's entry) and executed by the registry's release once due
    accounts = {a.number: a for a in Account.objects.filter(number__in=numbers)}
    past = timezone.now() - dt.timedelta(days=30)
    first_user = User.objects.get(username=users[0])
    TrustedAccount.objects.bulk_create([TrustedAccount(account=accounts[x], trusted=accounts[y], added_by=first_user, added_at=past, active_from=past,
                                                       pack_id="test") for x in numbers for y in numbers if x != y])
    stats["setup_s"] = time.monotonic() - t_start

    var_dir = tmp_path / "var"
    var_dir.mkdir()
    env = _server_env(var_dir)
    server = Server(port=_free_port(), env=env, log=tmp_path / "server.log")

    sent: dict[str, dict] = {}  # every key a client tried, with its content
    acked: dict[str, int] = {}  # key → seq, answered 200 before the kill
    inflight: list[str] = []  # keys whose request failed with a connection error at the kill
    unexpected: list[str] = []
    killing = threading.Event()
    stop = threading.Event()
    lock = threading.Lock()

    def body_for(n: int, k: int, rng: random.Random) -> dict:
        dst = rng.choice([x for x in range(ENTITIES) if x != n])
        key = f"crash-{n}-{k}"
        return {"key": key, "from_account": numbers[n], "to_account": numbers[dst], "unit_type": ut.code,
                "quantity": rng.randint(1, 9), "reference": f"崩溃测试 crash {key}"}

    def load(n: int, client: Client) -> None:
        rng = random.Random(1000 + n)
        deadline = time.monotonic() + 30  # bounded whatever happens
        k = 0
        while not stop.is_set() and time.monotonic() < deadline:
            body = body_for(n, k, rng)
            k += 1
            with lock:
                sent[body["key"]] = body
            try:
                status, answer = client.transfer(body)
            except CONNECTION_ERRORS as e:
                with lock:
                    if killing.is_set():
                        inflight.append(body["key"])  # expected: the server died under this request
                    else:
                        unexpected.append(f"client {n} {body['key']}: connection error before the kill: {e!r}")
                return
            with lock:
                if status == 200 and answer.get("key") == body["key"] and answer.get("quantity_t") == body["quantity"]:
                    acked[body["key"]] = answer["seq"]  # acknowledged: from now on it must survive anything
                else:
                    unexpected.append(f"client {n} {body['key']}: HTTP {status} {answer}")
                    return

    try:
        stats["start1_s"] = server.start()
        t0 = time.monotonic()
        clients = [Client(server.base) for _ in range(CLIENTS)]
        login_errors: list[BaseException] = []

        def login(n: int) -> None:
            try:
                d = devices[n]
                clients[n].login(users[n], PASSWORD, f"{TOTP(d.bin_key, d.step, d.t0, d.digits, d.drift).token():06d}")
            except BaseException as e:  # noqa: BLE001 - reported below
                login_errors.append(e)

        logins = [threading.Thread(target=login, args=(n,), daemon=True) for n in range(CLIENTS)]
        for t in logins:
            t.start()
        for t in logins:
            t.join(timeout=3 * HTTP_TIMEOUT)
        assert not login_errors and not any(t.is_alive() for t in logins), (login_errors[:3], server.log_tail())
        stats["login_s"] = time.monotonic() - t0

        # ---- load, then kill -9 the whole group while requests are in flight
        threads = [threading.Thread(target=load, args=(n, clients[n]), daemon=True) for n in range(CLIENTS)]
        t_load = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(LOAD_SECONDS)
        wait_until = time.monotonic() + 5
        while len(acked) < 20 and time.monotonic() < wait_until and not unexpected:
            time.sleep(0.05)
        assert not unexpected, (unexpected[:5], server.log_tail())
        stats["load_s"] = time.monotonic() - t_load
        killing.set()
        server.kill9()
        for t in threads:
            t.join(timeout=HTTP_TIMEOUT + 5)
        stop.set()
        assert not any(t.is_alive() for t in threads), "a client hung after the kill"
        assert not unexpected, (unexpected[:5], server.log_tail())
        assert len(acked) >= 20, f"only {len(acked)} transfers acknowledged before the kill:\n{server.log_tail()}"
        assert set(sent) == set(acked) | set(inflight)
        assert not set(acked) & set(inflight)
        # between the crash and the restart: what the journal holds of the requests that died in flight
        stats.update(acked=len(acked), inflight=len(inflight),
                     inflight_committed=Transfer.objects.filter(key__in=inflight).count())

        # ---- restart; the sessions survive (same secret key, sessions in the database)
        stats["start2_s"] = server.start()
        def client_of(key: str) -> Client:  # the holder of the source account
            return clients[numbers.index(sent[key]["from_account"])]

        # every request that died with the server is retried with the same key and content: 200, once
        retried_seq = {}
        for key in inflight:
            status, answer = client_of(key).transfer(sent[key])
            assert status == 200, (key, status, answer)
            assert answer["key"] == key and answer["quantity_t"] == sent[key]["quantity"], answer
            assert answer["debit_account"] == sent[key]["from_account"] and answer["credit_account"] == sent[key]["to_account"], answer
            retried_seq[key] = answer["seq"]
        # a retry of acknowledged keys gives back the same entry, not a new one
        for key in list(acked)[:5] + list(acked)[-5:]:
            status, answer = client_of(key).transfer(sent[key])
            assert (status, answer.get("seq")) == (200, acked[key]), (key, status, answer)
        # the same key with other content is refused: R0401
        probe = inflight[0] if inflight else next(iter(acked))
        other = dict(sent[probe], quantity=sent[probe]["quantity"] + 1)
        status, answer = client_of(probe).transfer(other)
        assert (status, answer.get("code")) == (422, "R0401"), (status, answer)
        # and new work goes through
        rng = random.Random(7)
        for n in range(CLIENTS):
            body = body_for(n, 100_000, rng)
            sent[body["key"]] = body
            status, answer = clients[n].transfer(body)
            assert status == 200 and answer["key"] == body["key"], (status, answer)
    finally:
        stop.set()
        server.stop()
    stats["runtime_s"] = time.monotonic() - t_start

    # ---- the registry releases the held instructions once due (cets registry release-due); then
    # ---- the journal holds every acknowledged transfer once, with the content sent, and nothing else
    for key, seq in acked.items():
        assert Transfer.objects.get(key=f"{key}:hold").seq == seq, key  # the acknowledged hold survived the crash
    for key, seq in retried_seq.items():
        assert Transfer.objects.get(key=f"{key}:hold").seq == seq, key
    latest = DelayedTransfer.objects.aggregate(m=Max("due_at"))["m"]
    released = delayed_transfers_release_due(now=latest)
    assert released == {"executed": len(sent), "returned": 0}, released
    rows = Transfer.objects.filter(kind=TransferKind.TRANSFER, key__startswith="crash-").select_related("debit_account", "credit_account")
    journal = {t.key: t for t in rows}
    dup = Transfer.objects.filter(key__in=list(sent)).values("key").annotate(n=Count("pk")).filter(n__gt=1)
    assert not dup.exists()
    missing = set(acked) - set(journal)
    assert not missing, f"{len(missing)} acknowledged transfers lost by the crash: {sorted(missing)[:5]}"
    assert set(journal) == set(sent), (set(journal) ^ set(sent))  # in-flight ones: posted once, before the kill or at the retry
    for key, t in journal.items():
        b = sent[key]
        assert (t.debit_account.number, t.credit_account.number, t.quantity, t.reference, t.unit_type_id) == \
               (b["from_account"], b["to_account"], b["quantity"], b["reference"], ut.pk), key
    # ---- holdings and audit
    assert not Holding.objects.filter(quantity__lt=0).exists()
    assert Holding.objects.filter(unit_type=ut).aggregate(q=Sum("quantity"))["q"] == cap
    moved = {n: 0 for n in numbers}
    for t in journal.values():
        moved[t.debit_account.number] -= t.quantity
        moved[t.credit_account.number] += t.quantity
    held = dict(Holding.objects.filter(unit_type=ut, position=Position.REGISTRY, account__number__in=numbers)
                .values_list("account__number", "quantity"))
    assert held == {n: START + moved[n] for n in numbers}
    report = audit_verify()
    assert report.ok, report.problems[:5]
    cli = subprocess.run([_cets_script(), "audit", "verify"], env=env, cwd=str(var_dir), stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    print(f"\ncrash test: {stats['acked']} transfers acknowledged in {stats['load_s']:.1f} s before kill -9, {stats['inflight']} "
          f"connection errors (in flight; {stats['inflight_committed']} of them committed before the kill; retried: 200), "
          f"{len(journal)} transfers in the journal; setup {stats['setup_s']:.1f} s, "
          f"start {stats['start1_s']:.1f} s, logins {stats['login_s']:.1f} s, restart {stats['start2_s']:.1f} s, "
          f"runtime {stats['runtime_s']:.1f} s")
