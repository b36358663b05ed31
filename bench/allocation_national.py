"""Allocation of a national-scale power year, on SQLite and on PostgreSQL, next to a bare bulk insert.

One invocation runs, for each backend asked for (default both), a separate process that:
1. creates an empty database (SQLite: a file in a temporary directory; PostgreSQL: a dedicated database,
   default ``cets_bench_alloc``, dropped and recreated — never ``cets`` or a ``test_*`` database) and migrates it;
2. generates a fleet with a fixed seed — 5,500 entities with valid credit codes in 31 provinces, each with a
   registry account, 12,000 generating units (I/II/III/IV), verified data of the year and the year before —
   through the platform's services (not timed);
3. times the real path: ``allocation_compute`` (2023, pack national/power-2023-2024), then the pre-allocation and
   the final allocation each proposed by one registry operator, approved by a second (four eyes, one registry
   transfer per entity) and confirmed;
4. in the same process and database, times a *bare* bulk insert of the same number of result rows (unit and
   entity allocation rows, and the registry journal rows the issuance wrote) into a plain scratch table with one
   ``executemany`` in one transaction — the floor of what writing those rows can cost;
5. reports both times and the ratio (the issue's aim: within 3× of the bare insert), checks Σ issued = Σ final
   allocation and the registry reconciliation, and writes ``bench/results/allocation_national.json``
   (``--quick``: ``bench/results/quick/``).

The last line is ``ratio: <bare insert s ÷ our total s> (aim ≥ 0.33)``, higher is better, taken from the PostgreSQL
run (from SQLite if PostgreSQL did not run: with ``--backend both`` and no PostgreSQL the SQLite run alone is made
and said so; ``--backend postgres`` without PostgreSQL prints ``skipped: <reason>``).

Run:  .venv/bin/python bench/allocation_national.py [--backend sqlite|postgres|both] [--seed 2023] [--line-by-line]
      .venv/bin/python bench/allocation_national.py --quick     (200 entities, 450 units: validation only)
      BENCH_PHASES=1 .venv/bin/python bench/allocation_national.py --worker postgres   (one worker; per phase — compute,
      propose, approve, confirm of each stage — on stderr and in its JSON: wall and CPU seconds of this process, CPU
      seconds of the PostgreSQL backend (read from /proc), statements and their seconds, the costliest statement kinds;
      BENCH_PHASES=profile adds each phase's cProfile)
A benchmark, not a test: it asserts nothing about speed; it measures and reports (exit 1 if a check fails).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from benchlib import machine_facts, pg_unreachable, ratio_line, results_path, skip, summary, write_json  # noqa: E402

AIM = 0.33  # issue 19: bare insert time ÷ ours ≥ 0.33 (ours within 3× of the bare insert)
HOST, PORT, USER, PASSWORD = "127.0.0.1", 5432, "cets", "cets"
REFUSED_DBS = {"cets", "postgres", "template0", "template1"}
ENTITIES, UNITS = int(os.environ.get("BENCH_ENTITIES", 5_500)), int(os.environ.get("BENCH_UNITS", 12_000))
YEAR, PACK = 2023, "national/power-2023-2024"
PROVINCES = ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45",
             "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65")


def db_url(name: str) -> str:
    return f"postgresql://{USER}:{PASSWORD}@{HOST}:{PORT}/{name}"


def check_db_name(name: str) -> str:
    if name in REFUSED_DBS or name.startswith(("test_", "template")) or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing to use database {name!r} for a benchmark (it is dropped and recreated)")
    return name


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname="postgres", autocommit=True) as c:
        c.execute(sql)


# ---------------------------------------------------------------- the worker (one backend, one process)

def fleet(seed: int):
    """(entities, units): entities as (uscc, province), units as (entity index, code, category, MW, year data…)."""
    from cets.core.uscc import check_character

    rng = random.Random(seed)
    ents = []
    for i in range(ENTITIES):
        prov = PROVINCES[i % len(PROVINCES)]
        first17 = f"91{prov}0000{i:09d}"
        ents.append((first17 + check_character(first17), prov))
    units = []
    per = [2] * ENTITIES
    for i in rng.sample(range(ENTITIES), UNITS - 2 * ENTITIES):
        per[i] += 1
    for ei, n in enumerate(per):
        for k in range(n):
            cat = rng.choices(("I", "II", "III", "IV"), weights=(35, 35, 15, 15))[0]
            mw = {"I": rng.choice((600, 660, 1000)), "II": rng.choice((135, 200, 300, 350)), "III": rng.choice((135, 300)),
                  "IV": rng.choice((200, 400, 460))}[cat]
            hours = rng.randint(3_000, 5_500)
            gen = Decimal(mw * hours)
            heat = Decimal(rng.choice((0, 0, rng.randint(100_000, 3_000_000))))
            lf = Decimal(rng.randint(40, 90)) / 100
            intensity = Decimal(rng.randint(3_500, 4_200) if cat == "IV" else rng.randint(7_600, 9_400)) / 10_000
            e = int(gen * intensity + heat * Decimal("0.1"))
            prev = int(Decimal(e) * Decimal(rng.randint(90, 110)) / 100)
            units.append((ei, f"#{k + 1}", cat, Decimal(mw), gen, heat, lf, e, prev))
    return ents, units


def worker(backend: str, seed: int, database: str, line_by_line: bool = False) -> dict:
    tmp = tempfile.mkdtemp(prefix="cets-bench-alloc-")
    os.environ["CETS_VAR_DIR"] = tmp
    os.environ.setdefault("CETS_SECRET_KEY", "bench-only-not-secret")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cets.settings"
    if backend == "postgres":
        admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{database}" OWNER "{USER}"')
        os.environ["CETS_DATABASE_URL"] = db_url(database)
    else:
        os.environ.pop("CETS_DATABASE_URL", None)
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Sum

    from cets.allocation.models import EntityAllocation, UnitAllocation
    from cets.allocation.services import allocation_compute, allocation_issue_confirm, allocation_issue_propose
    from cets.mrv.models import UnitYearData
    from cets.mrv.services import unit_year_data_upsert
    from cets.parties.models import GeneratingUnit, Organisation, Role
    from cets.parties.services import member_create
    from cets.registry.models import Instrument, Transfer
    from cets.registry.reports import reconciliation
    from cets.registry.services import account_open, proposal_approve, system_accounts_ensure, vintage_create

    if line_by_line:  # the registry's path before the batch: every issuance line through transfer_post
        import cets.registry.services as registry_services

        registry_services.issuance.BATCH_MIN_LINES = 10**9
    out: dict = {"backend": backend, "vendor": connection.vendor, "seed": seed, "issuance_path": "line by line" if line_by_line else "batch"}
    t0 = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    out["migrate_s"] = round(time.perf_counter() - t0, 2)

    # -- setup through the services (not timed against the baseline)
    t0 = time.perf_counter()
    ents, units = fleet(seed)
    system_accounts_ensure(market="national", provinces=PROVINCES)
    orgs = Organisation.objects.bulk_create([Organisation(uscc=u, name=f"测试电厂{i:05d}", kind=Organisation.Kind.ENTITY, region_code=u[2:8],
                                                          province=p) for i, (u, p) in enumerate(ents)], batch_size=1000)
    if not orgs[0].pk:
        orgs = list(Organisation.objects.filter(kind=Organisation.Kind.ENTITY).order_by("uscc"))
    with transaction.atomic():
        for o in orgs:
            account_open(holder=o)
    gus = GeneratingUnit.objects.bulk_create([GeneratingUnit(entity=orgs[ei], code=code, category=cat, rated_capacity_mw=mw)
                                              for ei, code, cat, mw, *_ in units], batch_size=1000)
    if not gus[0].pk:
        by = {(g.entity_id, g.code): g for g in GeneratingUnit.objects.all()}
        gus = [by[(orgs[ei].pk, code)] for ei, code, *_ in units]
    rows = []
    for g, (_, _, _, _, gen, heat, lf, e, prev) in zip(gus, units):
        rows.append(UnitYearData(unit=g, year=YEAR, generation_mwh=gen, heat_supplied_gj=heat, load_factor=lf, verified_emissions_t=e))
        rows.append(UnitYearData(unit=g, year=YEAR - 1, generation_mwh=gen, heat_supplied_gj=heat, load_factor=lf, verified_emissions_t=prev))
    unit_year_data_upsert(rows=rows)
    reg = Organisation.objects.create(kind=Organisation.Kind.REGISTRY, name="登记机构")
    ra = member_create(username="ra", organisation=reg, role=Role.REGISTRY_OPERATOR)
    rb = member_create(username="rb", organisation=reg, role=Role.REGISTRY_OPERATOR)
    out["setup_s"] = round(time.perf_counter() - t0, 2)
    out["entities"], out["units"] = len(orgs), UnitYearData.objects.filter(year=YEAR).count()
    # The setup's own objects (the fleet as tuples and about 40,000 model instances, ~155,000 objects the collector
    # tracks) are the bench's, not the path's: a service process does not hold them. Kept alive, every full
    # collection during the timed path walked them too (80 ms each against 43 ms without; issue 19, bench/README.md).
    del ents, units, orgs, gus, rows
    gc.collect()

    # -- the real path, timed; BENCH_PHASES=1 also records each phase's statements (count, seconds, the costliest kinds)
    #    and CPU seconds (stderr and the JSON), BENCH_PHASES=profile adds each phase's cProfile (tottime and cumulative),
    #    BENCH_PROFILE=1 one cProfile of the whole path
    timings = {}
    phases: dict[str, dict] = {}
    by_phase = bool(os.environ.get("BENCH_PHASES"))
    profile_phases = os.environ.get("BENCH_PHASES") == "profile"
    prof = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        prof = cProfile.Profile()
        prof.enable()

    backend_pid = None
    if by_phase and connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("SELECT pg_backend_pid()")
            backend_pid = c.fetchone()[0]

    def server_cpu() -> float:
        """CPU seconds of this connection's PostgreSQL backend so far (/proc: the server runs on this machine), or 0."""
        try:
            fields = Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError, TypeError):
            return 0.0

    class Phase:
        def __init__(self, name: str) -> None:
            self.name, self.n, self.db, self.kinds = name, 0, 0.0, {}

        def __call__(self, execute, sql, params, many, context):
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                dt = time.perf_counter() - t
                self.db += dt
                self.n += 1
                k = " ".join(sql.split())[:90]
                n0, t0 = self.kinds.get(k, (0, 0.0))
                self.kinds[k] = (n0 + 1, t0 + dt)

        def __enter__(self):
            self.t, self.cpu, self.server = time.perf_counter(), time.process_time(), server_cpu()
            if by_phase:
                import cProfile

                self.prof = cProfile.Profile() if profile_phases else None
                self.wrap = connection.execute_wrapper(self)
                self.wrap.__enter__()
                if self.prof is not None:
                    self.prof.enable()
            return self

        def __exit__(self, *exc):
            wall, cpu, server = time.perf_counter() - self.t, time.process_time() - self.cpu, server_cpu() - self.server
            if by_phase:
                import pstats

                if self.prof is not None:
                    self.prof.disable()
                self.wrap.__exit__(*exc)
                print(f"==== phase {self.name}: {wall:.3f} s wall, {cpu:.3f} s CPU (this process), {server:.2f} s CPU (the database "
                      f"backend), {self.n} statements, {self.db:.3f} s in statements (COPY not counted)", file=sys.stderr)
                for k, (n, t) in sorted(self.kinds.items(), key=lambda kv: -kv[1][1])[:12]:
                    print(f"    {n:>5} × {t:7.3f} s  {k}", file=sys.stderr)
                if self.prof is not None:
                    pstats.Stats(self.prof, stream=sys.stderr).sort_stats("tottime").print_stats(14)
                    pstats.Stats(self.prof, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
                phases[self.name] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "server_cpu_s": round(server, 2), "statements": self.n,
                                     "statements_s": round(self.db, 3)}
            return False

    t0 = time.perf_counter()
    with Phase("compute"):
        counts = allocation_compute(year=YEAR, pack_id=PACK)
    timings["compute_s"] = time.perf_counter() - t0
    cap = max(counts["final_allocation_t"], counts["pre_allocation_t"])
    ut = vintage_create(instrument=Instrument.CEA, vintage=str(YEAR), cap_t=cap, key=f"cap-{YEAR}")  # the platform's load path (R0506 with an actor)
    transfers_before = Transfer.objects.count()
    for stage in ("pre", "final"):
        t0 = time.perf_counter()
        with Phase(f"propose_{stage}"):
            p = allocation_issue_propose(year=YEAR, stage=stage, unit_type=ut, actor=ra)
        ta = time.perf_counter()
        with Phase(f"approve_{stage}"):
            proposal_approve(proposal_id=p.pk, approver=rb)
        timings[f"approve_{stage}_s"] = time.perf_counter() - ta  # the registry's part: executing the issuance
        with Phase(f"confirm_{stage}"):
            allocation_issue_confirm(year=YEAR, stage=stage)
        timings[f"issue_{stage}_s"] = time.perf_counter() - t0
    if prof is not None:
        import pstats

        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
    if phases:
        out["phases"] = phases
    issue_transfers = Transfer.objects.count() - transfers_before
    result_rows = UnitAllocation.objects.filter(year=YEAR).count() + EntityAllocation.objects.filter(year=YEAR).count()
    out["result_rows_compute"] = result_rows
    out["result_rows_total"] = result_rows + issue_transfers
    out["issue_transfers"] = issue_transfers

    # -- checks
    tot = EntityAllocation.objects.filter(year=YEAR).aggregate(final=Sum("final_allocation_t"), issued=Sum("issued_t"))
    recon = [r for r in reconciliation() if r.unit_type == ut.code]
    out["final_allocation_t"] = tot["final"]
    out["issued_t"] = tot["issued"]
    out["check_issued_equals_final"] = tot["final"] == tot["issued"]
    out["check_reconciliation_balanced"] = bool(recon) and all(r.balanced for r in recon)

    # -- the bare bulk insert of the same number of rows, same process, same database
    def bare(n: int) -> float:
        with connection.cursor() as c:
            c.execute("DROP TABLE IF EXISTS bench_bare")
            c.execute("CREATE TABLE bench_bare (id integer PRIMARY KEY, a bigint, b bigint, c bigint, d bigint, e bigint, f bigint, "
                      "g numeric(16,6), h varchar(80))")
        data = [(i, i, 2 * i, 3 * i, 4 * i, 5 * i, 6 * i, "1.061364", f"2023 预分配 pre-allocation {i:018d}") for i in range(1, n + 1)]
        t = time.perf_counter()
        with transaction.atomic(), connection.cursor() as c:
            c.executemany("INSERT INTO bench_bare (id, a, b, c, d, e, f, g, h) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", data)
        dt = time.perf_counter() - t
        with connection.cursor() as c:
            c.execute("DROP TABLE bench_bare")
        return dt

    timings["bare_compute_rows_s"] = bare(out["result_rows_compute"])
    timings["bare_total_rows_s"] = bare(out["result_rows_total"])
    timings["total_s"] = timings["compute_s"] + timings["issue_pre_s"] + timings["issue_final_s"]
    out["timings"] = {k: round(v, 3) for k, v in timings.items()}
    out["ratio_compute"] = round(timings["compute_s"] / timings["bare_compute_rows_s"], 2)
    out["ratio_total"] = round(timings["total_s"] / timings["bare_total_rows_s"], 2)
    connection.close()
    if backend == "postgres":
        drop(database)
    return out


def drop(database: str, tries: int = 10) -> None:
    """Drop the scratch database; retried, since ``WITH (FORCE)`` cannot end an autovacuum worker that just started on
    it ("must be a member of the role whose process is being terminated": a run failed so after it had measured)."""
    import psycopg

    for i in range(tries):
        try:
            admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            return
        except psycopg.errors.InsufficientPrivilege:
            if i == tries - 1:
                raise
            time.sleep(1)


# ---------------------------------------------------------------- driver

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--database", default="cets_bench_alloc")
    ap.add_argument("--entities", type=int, default=None, help=f"entities in the fleet (default {ENTITIES:,}; env BENCH_ENTITIES)")
    ap.add_argument("--units", type=int, default=None, help=f"generating units, at least 2 per entity (default {UNITS:,}; env BENCH_UNITS)")
    ap.add_argument("--quick", action="store_true", help="200 entities, 450 units: validation only, not comparable to a full run")
    ap.add_argument("--no-json", action="store_true")
    ap.add_argument("--line-by-line", action="store_true", help="issue through transfer_post line by line (the path before the batch)")
    ap.add_argument("--worker", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    check_db_name(args.database)
    if args.worker:
        print(json.dumps(worker(args.worker, args.seed, args.database, args.line_by_line)))
        return 0
    if args.quick:
        args.entities, args.units = args.entities or 200, args.units or 450
    entities, units = args.entities or ENTITIES, args.units or UNITS
    if units < 2 * entities:
        ap.error("--units must be at least 2 × --entities")
    env = {**os.environ, "BENCH_ENTITIES": str(entities), "BENCH_UNITS": str(units)}
    facts = machine_facts()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    note = ""
    if "postgres" in backends:
        why = pg_unreachable()
        if why and args.backend == "postgres":
            skip(why)
        if why:
            backends, note = ("sqlite",), f"SQLite only: {why}"
            print(f"PostgreSQL run left out: {why}", file=sys.stderr)
    runs = []
    for backend in backends:
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--worker", backend, "--seed", str(args.seed), "--database", args.database]
                              + (["--line-by-line"] if args.line_by_line else []),
                              capture_output=True, text=True, cwd=REPO, env=env)
        if proc.returncode:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            return 1
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["wall_s"] = round(time.perf_counter() - t, 1)
        runs.append(r)
    print(f"{'backend':10} {'entities':>8} {'units':>6} {'compute s':>10} {'pre s':>7} {'final s':>8} {'total s':>8} "
          f"{'bare s':>7} {'×bare':>6} {'cmp ×bare':>9} {'approve s':>9} checks")
    ok = True
    for r in runs:
        t = r["timings"]
        good = r["check_issued_equals_final"] and r["check_reconciliation_balanced"]
        ok &= good
        print(f"{r['backend']:10} {r['entities']:>8,} {r['units']:>6,} {t['compute_s']:>10.2f} {t['issue_pre_s']:>7.2f} {t['issue_final_s']:>8.2f} "
              f"{t['total_s']:>8.2f} {t['bare_total_rows_s']:>7.2f} {r['ratio_total']:>6.2f} {r['ratio_compute']:>9.2f} "
              f"{t['approve_pre_s'] + t['approve_final_s']:>9.2f} {'ok' if good else 'FAILED'}")
    print(f"rows: compute {runs[0]['result_rows_compute']:,}, with the issuance journal {runs[0]['result_rows_total']:,}; "
          f"Σ final allocation {runs[0]['final_allocation_t']:,} t")
    print("(×bare: our time ÷ the bare insert's, lower is better; the ratio line below is its inverse, higher is better)")
    head = next((r for r in runs if r["backend"] == "postgres"), runs[0])
    t = head["timings"]
    ratio = round(t["bare_total_rows_s"] / t["total_s"], 3) if t["total_s"] else None
    if not ok:
        note = "; ".join(x for x in (note, "a check FAILED") if x)
    out = {
        "benchmark": "allocation_national", "quick": args.quick, "entities": entities, "units": units, "runs": runs,
        "summary": summary(ours=t["total_s"], ours_unit=f"s, compute + pre + final issuance ({head['backend']})",
                           baseline=t["bare_total_rows_s"], baseline_label=f"s, bare insert of the same {head['result_rows_total']:,} rows",
                           ratio=ratio, aim=AIM, ratio_means=f"bare insert time ÷ our time, {head['backend']}", note=note),
        "machine": facts,
    }
    if not args.no_json:
        write_json(results_path("allocation_national", args.quick), out)
    if ratio is not None:
        ratio_line(ratio, AIM)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
