"""`cets mrv compute` for industry: 3,700 industrial entities × 12 months × their sources, next to a plain ``csv`` read.

One invocation:
1. generates, with a fixed seed (``--seed``, default 2025), an activity file in the format of README.md "MRV input
   formats": 3,700 entities split into steel (600), cement (1,600) and aluminium (1,500), one facility each, 12 months,
   and per month the sources of its sector (steel: 4 enterprise fuels, a carbonate, an electrode, scrap, crude steel,
   two processes' inputs and outputs, a product; cement: a fuel, clinker, CaO and MgO, raw meal; aluminium: anode,
   product, a measured sulphur content in half the months) — one file per sector, in a temporary directory;
2. times, per sector, the same path as the CLI: ``IndustryRules.from_pack``, ``read_activity`` (every cell checked,
   then the guideline's refusals), ``facility_years`` and ``write_facility_years`` (best of ``--repeat`` runs);
3. times a plain ``csv.reader`` pass over the same files (decode, split, count rows) as the yardstick;
4. prints one line per sector and the total, writes ``bench/results/mrv_compute.json`` (``--quick``:
   ``bench/results/quick/``), and last ``ratio: X (aim ≥ 0.05)``.

ratio = plain-read time / our time, so **higher is better**: 1.0 would mean checking and computing cost nothing beyond
reading the text; the aim 0.05 means we may be at most 20 times slower than just splitting the CSV. A benchmark, not a
test: it asserts nothing; figures depend on the machine (record them in bench/README.md).

Run:  .venv/bin/python bench/mrv_compute.py [--seed 2025] [--repeat 3]
      .venv/bin/python bench/mrv_compute.py --quick     (a tenth of the entities, one run: validation only)
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from cets.core.uscc import check_character
from cets.mrv.accounting_industry import IndustryRules, facility_years
from cets.mrv.activity import ACTIVITY_COLUMNS, read_activity, write_facility_years
from cets.rules.packs import load_pack

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine_facts, ratio_line, results_path, summary, write_json  # noqa: E402

AIM = 0.05
COUNTS = {"steel": 600, "cement": 1600, "aluminium": 1500}
YEAR = 2025


def uscc(n: int) -> str:
    body = f"91{110000 + n % 800000:06d}{n:09d}"[:17]
    return body + check_character(body)


def rows_for(sector: str, n: int, rng: random.Random):
    e, f = uscc(n), f"F{n}"

    def r(m, source, material, qty="", part="", ncv="", mv=""):
        return [e, f, f"{YEAR}-{m:02d}", source, part, material, qty, ncv, "", "", mv]

    measured = rng.random() < 0.5
    for m in range(1, 13):
        q = lambda lo, hi: f"{rng.uniform(lo, hi):.2f}"  # noqa: E731
        if sector == "steel":
            yield r(m, "fuel", "洗精煤", q(8000, 12000))
            yield r(m, "fuel", "烟煤", q(1000, 2000), ncv=f"{rng.uniform(22, 25):.3f}" if measured else "")
            yield r(m, "fuel", "天然气", q(10, 50), ncv=f"{rng.uniform(370, 395):.3f}" if rng.random() < 0.7 else "")
            yield r(m, "fuel_sold", "焦炭", q(0, 500))
            yield r(m, "carbonate", "石灰石", q(500, 1500))
            yield r(m, "electrode", "电极", q(5, 20))
            yield r(m, "carbon_raw_material", "废钢", q(1000, 3000))
            yield r(m, "carbon_product", "粗钢", q(9000, 11000))
            yield r(m, "process_input", "焦炭", q(3000, 4000), part="ironmaking")
            yield r(m, "process_input", "烟煤", q(1000, 1500), part="ironmaking")
            yield r(m, "process_output", "高炉煤气", q(1200, 1600), part="ironmaking")
            yield r(m, "product", "生铁", q(9000, 11000), part="ironmaking")
            yield r(m, "process_input", "焦炭", q(400, 600), part="sintering")
        elif sector == "cement":
            yield r(m, "fuel", "烟煤", q(8000, 12000), ncv=f"{rng.uniform(21, 25):.3f}")
            yield r(m, "clinker", "熟料", q(80000, 120000))
            yield r(m, "clinker_content", "氧化钙", mv=f"{rng.uniform(0.63, 0.67):.4f}")
            yield r(m, "clinker_content", "氧化镁", mv=f"{rng.uniform(0.01, 0.03):.4f}")
            yield r(m, "raw_meal", "生料", q(120000, 190000))
        else:
            yield r(m, "anode", "炭阳极", q(3500, 4500))
            yield r(m, "product", "原铝液", q(9000, 11000))
            if m % 2 == 0:
                yield r(m, "anode_content", "硫分", mv=f"{rng.uniform(0.01, 0.025):.4f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="a tenth of the entities, one run: validation only, not comparable to a full run")
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()
    counts = {k: v // 10 for k, v in COUNTS.items()} if args.quick else dict(COUNTS)
    if args.quick:
        args.repeat = 1
    facts = machine_facts()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="cets-bench-mrv-"))
    files, n = {}, 0
    for sector, count in counts.items():
        path = tmp / f"{sector}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(ACTIVITY_COLUMNS)
            for _ in range(count):
                n += 1
                w.writerows(rows_for(sector, n, rng))
        files[sector] = path
    ours_total = plain_total = 0.0
    rows_total = 0
    per_sector = {}
    for sector, path in files.items():
        best_ours = best_plain = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            rules = IndustryRules.from_pack(load_pack(f"national/{sector}-accounting-2024-2026"))
            rows, problems = read_activity(path, rules)
            if problems:
                print(f"✗ {sector}: {len(problems)} problem(s), first: {problems[0]}")
                return 1
            results = facility_years(rows, rules)
            write_facility_years(tmp / f"{sector}-annual.csv", sector, results)
            best_ours = min(best_ours, time.perf_counter() - t0)
            t0 = time.perf_counter()
            with path.open(encoding="utf-8", newline="") as fh:
                count = sum(1 for _ in csv.reader(fh)) - 1
            best_plain = min(best_plain, time.perf_counter() - t0)
        assert count == len(rows)
        rows_total += count
        ours_total += best_ours
        plain_total += best_plain
        per_sector[sector] = {"entities": counts[sector], "rows": count, "ours_s": round(best_ours, 4), "plain_csv_s": round(best_plain, 4)}
        print(f"{sector:10} {counts[sector]:>5} entities {count:>7,} rows  ours {best_ours:7.3f} s  plain csv {best_plain:6.3f} s  "
              f"Σ emissions {sum(r.emissions_t for r in results):,} t")
    print(f"{'total':10} {sum(counts.values()):>5} entities {rows_total:>7,} rows  ours {ours_total:7.3f} s  plain csv {plain_total:6.3f} s")
    shutil.rmtree(tmp, ignore_errors=True)
    ratio = round(plain_total / ours_total, 3)
    if not args.no_json:
        write_json(results_path("mrv_compute", args.quick), {
            "benchmark": "mrv_compute", "quick": args.quick, "seed": args.seed, "repeat": args.repeat, "sectors": per_sector,
            "rows": rows_total, "ours_s": round(ours_total, 4), "plain_csv_s": round(plain_total, 4), "ratio": ratio,
            "summary": summary(ours=round(ours_total, 3), ours_unit=f"s for {rows_total:,} rows", baseline=round(plain_total, 3),
                               baseline_label="s, plain csv.reader pass", ratio=ratio, aim=AIM, ratio_means="plain csv read time ÷ our time"),
            "machine": facts,
        })
    ratio_line(ratio, AIM)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
