"""The ``cets`` command.

    cets demo [--no-serve] [--addr 127.0.0.1:8000]   real data in, compliance years 2023 and 2024 through, serve
    cets serve [--addr HOST:PORT] [--workers N]     serve the web platform (gunicorn)
    cets migrate                                    create or upgrade the database
    cets import entities FILE [--sector power] [--year 2023]
    cets audit verify                               recompute every holding from the journal
    cets registry blocks SERIAL [--format json]     a CCER serial's (or block's) history: issuance, transfers, retirement
    cets supervision triggers --day 2025-10-20 [--market national]
                                                    the end-of-day check of the market-stabilisation triggers (alerts only)
    cets trading replay BY_METHOD.csv QUOTES.csv    replay the official market and reconcile
    cets trading replay --market ccer DAILY.csv     replay the voluntary market's daily bulletins
    cets trading replay --market beijing BEA.csv    replay the Beijing exchange's BEA days
    cets trading sequencer [--market national]      run a market's sequencer
    cets registry release-due [--at ISO]            execute the holders' delayed transfers that are due
    cets manage ARGS...                             any Django management command
    cets checks [--write docs/checks.md]            the catalogue of numbered checks
    cets cycle status --market national --year 2024 [--format json] [--today 2025-09-01]
                                                    the year's compliance cycle: steps, deadlines, statuses
    cets whatif --pack national/power-2025-2026 --base national/2024 [--pack …] [--rules-year 2025] [--xlsx out.xlsx]
                                                    a draft allocation pack against a stored year (nothing is written)
    cets mrv compute --pack national/power-2023 --input monthly.csv --out annual.csv   (pure, no database)
    cets mrv compute --pack national/steel-accounting-2024-2026 --input activity.csv --out annual.csv   (also cement, aluminium)
    cets pcer compute --methodology ev_conversion --input period.json   (Beijing 碳普惠 reductions; pure, no database)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from cets.rules.markets import PRIMARY_MARKET


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cets.settings")
    import django

    django.setup()


def _console():
    from rich.console import Console

    return Console()


def _problem(con, label: str, problem, style: str = "red") -> None:
    """Print one input problem verbatim (its ``[field=value]`` is text, not rich markup)."""
    from rich.text import Text

    con.print(Text(f"✗ {label}", style=style) + Text(str(problem)), soft_wrap=True)


def _read_table(con, reader, path, *extra):
    """Call ``reader(path, *extra) -> (rows, problems)`` for a pure command; print every problem (file, row,
    column, reason) and return None when the file is missing or any row is bad — nothing is written then."""
    try:
        rows, problems = reader(path, *extra)
    except FileNotFoundError:
        con.print(f"[red]✗ {path}: 文件不存在 / file not found[/red]")
        return None
    if problems:
        for p in problems:
            _problem(con, "", p)
        con.print(f"[red]✗ {len(problems)} problem(s); nothing written 未写出任何结果[/red]")
        return None
    return rows


def cmd_migrate(args) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
    return 0


def cmd_import_entities(args) -> int:
    from django.core.management import call_command

    from cets.core.errors import InputError
    from cets.mrv.services import disclosures_import

    call_command("migrate", interactive=False, verbosity=0)
    con = _console()
    try:
        result = disclosures_import(path=args.file, sector=args.sector, year=args.year)
    except InputError as e:
        for p in e.problems:
            _problem(con, "", p)
        return 2
    except FileNotFoundError as e:
        con.print(f"[red]✗[/red] {e.filename}: 文件不存在 / file not found")
        return 2
    for p in result.problems:
        _problem(con, "skipped 跳过 ", p, "yellow")
    for k, v in result.counts.items():
        con.print(f"  {k}: {v:,}")
    return 0


def audit_validators() -> list:
    """Every app's validators for ``cets audit verify``, bottom-up: the registry's, then trading's."""
    from cets.registry.audit import VALIDATORS as registry_validators
    from cets.trading.audit import VALIDATORS as trading_validators

    return [*registry_validators, *trading_validators]


def cmd_registry_blocks(args) -> int:
    """Print the history of a serial or block (registry selector ``serial_history``); exit 1 with R1002 if unknown."""
    import json

    from cets.core.errors import CetsError
    from cets.registry.selectors import serial_history

    con = _console()
    try:
        h = serial_history(args.serial)
    except CetsError as e:
        con.print(f"[red]✗ {e.code} {e.zh} / {e.en}[/red]")
        return 1
    if args.format == "json":
        sys.stdout.write(json.dumps(h, default=str, ensure_ascii=False, indent=1) + "\n")
        return 0
    con.print(f"{h['serial']} · project {h['project']} {h['project_name']} · vintage {h['vintage']} · now {h['block']} in {h['account']}"
              + (" · retired 已注销" if h["retired"] else ""), markup=False)
    for st in h["steps"]:
        con.print(f"  #{st['seq']} {st['effective_at']:%Y-%m-%d} {st['kind']}: {st['from_account'] or '-'} → {st['to_account']} "
                  f"{st['block']} ({st['quantity_t']:,} t)" + (" retired" if st["retired"] else ""), markup=False)
    return 0


def cmd_supervision_triggers(args) -> int:
    """Check a trading day against the market's stabilisation triggers (pack values); print the alerts raised for the
    national authority (the decision stays human). Exit 1 with the check's code if the day has no figures or no pack."""
    import datetime as dt

    from cets.core.errors import CetsError
    from cets.supervision.stabilisation import stabilisation_triggers_check

    con = _console()
    try:
        alerts = stabilisation_triggers_check(market=args.market, day=dt.date.fromisoformat(args.day))
    except CetsError as e:
        con.print(f"[red]✗ {e.code} {e.zh} / {e.en}[/red]")
        return 1
    for a in alerts:
        con.print(f"! {a.day} {a.trigger}: {a.value:,} vs {a.threshold:,} ({a.pack_id}) → alert #{a.pk} for the national authority", markup=False)
    if not alerts:
        con.print(f"✓ {args.day}: no trigger crossed 未触发", markup=False)
    return 0


def cmd_audit_verify(args) -> int:
    from cets.registry.audit import run_validators
    from cets.registry.selectors import unit_type_totals

    con = _console()
    results = run_validators(audit_validators())
    for row in unit_type_totals():
        con.print(f"  {row['unit_type']}: created {row['created_t']:,} = national total {row['national_total_t']:,} + issued {row['issued_t']:,}; "
                  f"issued = circulating {row['circulating_t']:,} + surrendered {row['surrendered_t']:,} + cancelled {row['cancelled_t']:,} "
                  f"+ deducted {row['deducted_t']:,} + carried over {row['carried_over_t']:,}" + ("" if row["balanced"] else " ✗"))
    for res in results:
        if res.ok:
            con.print(f"[green]✓ {res.name}[/green] · {res.summary}")
            continue
        con.print(f"[red]✗ {res.name}[/red] · {res.summary}: {len(res.problems)} problem(s)")
        for p in res.problems:
            _problem(con, "  ", p)
    failed = [r.name for r in results if not r.ok]
    if not failed:
        con.print("[green]✓ audit verify: the journal proves every holding 台账与持仓一致[/green]")
        return 0
    con.print(f"[red]✗ audit verify failed: {len(failed)} of {len(results)} validator(s) 审计未通过[/red]")
    return 1


def cmd_demo(args) -> int:
    from rich.table import Table

    from cets.demo.run import run_demo

    con = _console()
    res = run_demo(seed=args.seed, log=lambda m: con.print(m))
    for p in res.import_problems:
        _problem(con, "import skipped 导入跳过 ", p, "yellow")
    c = res.counts
    t = Table(title="cets demo · national power sector, compliance year 2023 全国发电行业2023年度履约")
    t.add_column("item 项目")
    t.add_column("value 数值", justify="right")
    rows = [
        ("key emitting entities 重点排放单位", c["entities"]),
        ("generating units 机组 (demo-generated)", c["units"]),
        ("verified emissions 核查排放量 (t)", c["verified_emissions_t"]),
        ("pre-allocated 预分配 (t)", c["pre_allocated_t"]),
        ("finally allocated 核定 (t)", c["final_allocated_t"]),
        ("  of which 20% cap top-up 缺口率上限补足 (t)", c["shortfall_topup_t"]),
        ("surrendered CEA 清缴配额 (t)", c["surrendered_cea_t"]),
        ("surrendered CCER 抵销 (t)", c["surrendered_ccer_t"]),
        ("on time in full 按时足额履约", c.get("outcome_on_time", 0)),
        ("late in full 逾期足额履约", c.get("outcome_late", 0)),
        ("incomplete 未足额履约", c.get("outcome_incomplete", 0)),
        ("journal entries 登记簿分录", c["journal_entries"]),
    ]
    for k, v in rows:
        t.add_row(k, f"{v:,}")
    con.print(t)
    if res.sectors_2024:
        con.print(_demo_2024_table(res))
    if res.whatif_2024:
        con.print(_whatif_table(res.whatif_2024))
    if res.counts_beijing:
        b = res.counts_beijing
        bt = _counts_table("cets demo · Beijing pilot, compliance year 2023 北京试点2023年度履约 (demo-generated units)", b, (
            ("key emitters 重点碳排放单位", "entities"), ("determined emissions 核定排放量 (t)", "determined_t"),
                         ("free allocation 免费配额 (t)", "allocated_t"), ("pre-issued by 07-15 免费配额预发 (t)", "preissued_t"),
                         ("final issue by 09-15, final − pre-issued 核发（多退少补） (t)", "true_up_t"),
                         ("issued BEA 发放 (t)", "issued_t"), ("surrendered 清缴 (t)", "surrendered_t"),
                         ("on time 按时足额", "outcome_on_time"), ("collected after the deadline 逾期自动收缴", "outcome_collected"),
                         ("incomplete 未足额", "outcome_incomplete"), ("fines decided 罚款决定", "fines"),
                         ("general reporting units' reports accepted 一般报告单位报告检查通过", "general_reports_accepted"),
                         ("PCER issued 碳普惠减排量签发 (t)", "pcer_issued_t")))
        if b.get("fines"):
            bt.add_row("fine 罚款 (CNY), 3 × average BEA price", f"{b['fine_fen'] / 100:,.2f} (price {b['fine_price_fen'] / 100:.2f})")
        con.print(bt)
    if res.counts_supervision:
        sv = res.counts_supervision
        con.print(_counts_table("cets demo · supervision 监督管理 (over the demo's trades and records; decisions DEMO)", sv, (
            ("trading days surveilled 监测交易日", "surveillance_days"), ("related participants 关联账户", "related"),
                         ("surveillance alerts 监测预警", "alerts"), ("  referred 移交调查", "alerts_referred"), ("blacklist entries 黑名单", "blacklist"),
                         ("reports from the public 公众举报", "reports"), ("false-reporting findings 虚报瞒报认定", "findings"),
                         ("credit records 信用记录", "credit_records"), ("  created by credit sync 本次同步新增", "credit_sync_created"))))
    con.print("[green]✓ audit verify passed 审计通过[/green]" if res.audit_ok else f"[red]✗ audit verify failed: {res.audit_problems[:5]}[/red]")
    lt = Table(title="demo logins 演示账号")
    for col in ("username", "password", "acts as 角色"):
        lt.add_column(col)
    for row in res.logins:
        lt.add_row(*row)
    con.print(lt)
    if not res.audit_ok:
        return 1
    if args.no_serve:
        return 0
    return cmd_serve(args)


def _counts_table(title: str, counts: dict, rows):
    """A two-column rich table of the demo summary: ``rows`` of (label, key of ``counts``), each count with thousands separators."""
    from rich.table import Table

    t = Table(title=title)
    t.add_column("item 项目")
    t.add_column("value 数值", justify="right")
    for label, k in rows:
        t.add_row(label, f"{counts.get(k, 0):,}")
    return t


def _whatif_table(runs):
    """The demo's what-if runs against 2024, one row per sector (tonnes; cost change in CNY at the year's average price)."""
    from rich.table import Table

    from cets.core.quantities import fen_to_yuan

    t = Table(title="what-if 配额方案模拟: 2025–2026 drafts on the 2024 data (t CO2e)")
    for c in ("run", "sector", "entities", "verified", "base", "draft", "change", "draft ±", "cost change (CNY)"):
        t.add_column(c, justify="left" if c in ("run", "sector") else "right")
    for name, r in runs.items():
        for x in r.totals("sector"):
            t.add_row(name, x.key, *(f"{v:,}" for v in (x.entities, x.verified_t, x.base_t, x.draft_t, x.change_t, x.draft_balance_t)),
                      fen_to_yuan(x.change_cost_fen))
    return t


def _demo_2024_table(res):
    """The demo's 2024 summary: one column per sector and a total (an entity on two lists is counted once there)."""
    from rich.table import Table

    from cets.rules.markets import load_market

    zh = {s.code: s.name_zh for s in load_market(PRIMARY_MARKET).sectors}  # the market's sector registry
    rs, c = res.sectors_2024, res.counts_2024
    t = Table(title="cets demo · national market, compliance year 2024 全国碳市场2024年度履约")
    t.add_column("item 项目")
    for r in rs:
        t.add_column(f"{r.sector} {zh.get(r.sector, '')}", justify="right")
    t.add_column("total 合计", justify="right")
    items = [
        ("entities 重点排放单位", "entities", c["entities"]),
        ("units/facilities 机组/设施", "facilities", None),
        ("verified 核查排放量 (t)", "verified_t", None),
        ("pre-allocated 预分配 (t)", "pre_allocated_t", None),
        ("allocated 核定 (t)", "allocated_t", None),
        ("issued 发放 (t)", "issued_t", None),
        ("surrendered 清缴 (t)", "surrendered_t", c["surrendered_cea_t"] + c["surrendered_ccer_t"]),
        ("on time 按时足额", "on_time", c.get("outcome_on_time", 0)),
        ("late 逾期足额", "late", c.get("outcome_late", 0)),
        ("incomplete 未足额", "incomplete", c.get("outcome_incomplete", 0)),
    ]
    for label, f, total in items:
        values = [getattr(r, f) for r in rs]
        t.add_row(label, *(f"{v:,}" for v in values), f"{sum(values) if total is None else total:,}")
    t.caption = (f"units/facilities demo-generated · surrendered CEA {c['surrendered_cea_t']:,} t, CCER {c['surrendered_ccer_t']:,} t · "
                 f"exchange, CEA24 on 2025-12-10: {c.get('exchange_trades', 0):,} trades, {c.get('exchange_volume_t', 0):,} t")
    return t


def cmd_serve(args) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from gunicorn.app.base import BaseApplication

    from cets.wsgi import application

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("post_fork", lambda server, worker: connections.close_all())
            self.cfg.set("bind", args.addr)
            self.cfg.set("workers", args.workers)
            self.cfg.set("accesslog", "-")

        def load(self):
            return application

    # The master must not hand its database connection to the forked workers: each worker opens its own.
    from django.db import connections

    connections.close_all()
    _console().print(f"serving http://{args.addr}/ (Ctrl-C to stop) 服务已启动")
    _App().run()
    return 0


def cmd_allocation_compute(args) -> int:
    """Pure computation from a unit (power) or line (steel, cement, aluminium) table: no database is opened."""
    from cets.allocation.commands import compute

    return compute(args, _console(), _problem)


def cmd_trading_replay(args) -> int:
    """Replay a market's official daily figures through the real trading path in a fresh database and
    write the reconciliation report (JSON and CSV): the national market's by-method and quote files, or
    the one daily file of a market whose trading pack publishes ``daily_totals`` (``--market ccer``)."""
    import datetime as dt
    import json
    import tempfile
    from pathlib import Path

    fresh_sqlite = not args.in_place and not args.database_url
    if not args.in_place:
        os.environ["CETS_VAR_DIR"] = tempfile.mkdtemp(prefix="cets-replay-")
        os.environ.pop("CETS_DATABASE_URL", None)
        if args.database_url:
            os.environ["CETS_DATABASE_URL"] = args.database_url
    if fresh_sqlite:
        _schema_from_cache(Path(os.environ["CETS_VAR_DIR"]) / "cets.sqlite3")
    _setup()
    from django.core.management import call_command

    from cets.core.errors import InputError
    from cets.trading.replay import replay_run, report_rows

    call_command("migrate", interactive=False, verbosity=0)  # nothing to apply when the schema came from the cache
    if fresh_sqlite:
        _schema_to_cache(Path(os.environ["CETS_VAR_DIR"]) / "cets.sqlite3")
    con = _console()
    start = dt.date.fromisoformat(args.start) if args.start else None
    end = dt.date.fromisoformat(args.end) if args.end else None
    from cets.rules.markets import market_ids

    if args.market not in market_ids():
        con.print(f"[red]unknown market {args.market!r} (known: {', '.join(market_ids())})[/]")
        return 2
    if _publication(args.market) == "daily_totals":
        return _trading_replay_totals(args, con, start, end)
    if len(args.files) != 2:
        con.print(f"[red]{args.market}: give the by-method and the quotes file (cea_daily_by_trade_method.csv cea_daily_quotes.csv)[/]")
        return 2
    try:
        with _replay_progress(con) as progress:
            rep = replay_run(by_method_path=args.files[0], quotes_path=args.files[1], start=start, end=end, log=lambda m: con.print(m), progress=progress)
    except InputError as e:
        for p in e.problems:
            _problem(con, "", p)
        return 2
    out = Path(args.report_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "start": str(rep.start), "end": str(rep.end), "trading_days": rep.trading_days, "subject_days": rep.subject_days,
        "orders": rep.orders, "trades": rep.trades, "volume_t": rep.volume_t, "amount_fen": rep.amount_fen,
        "engine_mismatches": len(rep.engine), "published_contradictions": len(rep.published),
        "publication_findings": len(rep.publication),
        "findings_by_reason": rep.findings_by_reason, "composite_days": rep.composite_days,
        "composite_close_matches": rep.composite_close_matches, "elapsed_ms": rep.elapsed_ms,
    }
    (out / "replay_summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    import csv

    with (out / "replay_mismatches.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["date", "subject", "field", "ours", "official", "category", "reason"])
        w.writeheader()
        w.writerows(report_rows(rep))
    con.print_json(json.dumps(summary, ensure_ascii=False))
    for m in rep.engine[:20]:
        con.print(f"[red]✗ engine differs 引擎不一致[/red] {m.date} {m.subject} {m.field}: ours {m.ours} ≠ official {m.official}")
    con.print(("[green]✓" if rep.ok else "[red]✗") + f" our engine differs on {len(rep.engine)} figure(s); the publication contradicts "
              f"its rule on {len(rep.published)} figure(s) (listed in {out / 'replay_mismatches.csv'})[/]")
    return 0 if rep.ok else 1


def _schema_cache_path():
    """Where a freshly migrated, empty SQLite database of this code's migrations is kept: the system's temporary
    directory, named by a digest of every migration file and the Django version (any change → another file)."""
    import hashlib
    import tempfile
    from pathlib import Path

    import django

    root = Path(__file__).resolve().parent
    h = hashlib.sha256(django.get_version().encode())
    for f in sorted(root.glob("*/migrations/*.py")):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return Path(tempfile.gettempdir()) / f"cets-schema-{h.hexdigest()[:20]}.sqlite3"


def _schema_from_cache(target) -> None:
    """Start a fresh SQLite replay database from the cached migrated schema, if there is one (``migrate`` then finds
    nothing to apply: about 10–20 s of a replay's start on this machine)."""
    import shutil

    cached = _schema_cache_path()
    if cached.exists() and not target.exists():
        shutil.copyfile(cached, target)


def _schema_to_cache(db) -> None:
    """Keep the just migrated, still empty SQLite database as the schema cache (a consistent copy through SQLite's
    backup API, written under another name and renamed: two replays starting at once never see half a file)."""
    import sqlite3

    cached = _schema_cache_path()
    if cached.exists():
        return
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    src, dst = sqlite3.connect(db), sqlite3.connect(tmp)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    os.replace(tmp, cached)


@contextlib.contextmanager
def _replay_progress(con):
    """A rich progress bar for a replay: days done of all, the last day, trades settled and engine mismatches so far
    (red when not 0), elapsed and remaining time. Yields the ``progress`` callback of ``replay_run``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(TextColumn("[bold]replay 回放[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("days · {task.fields[day]}"),
                   TextColumn("· {task.fields[trades]} trades 成交"), TextColumn("· {task.fields[engine]}"), TimeElapsedColumn(),
                   TextColumn("eta"), TimeRemainingColumn(), console=con, transient=False)
    task = bar.add_task("replay", total=None, day="…", trades="0", engine="[green]0 engine mismatches 引擎不一致[/]")

    def progress(p) -> None:
        engine = f"[{'red' if p.engine else 'green'}]{p.engine} engine mismatches 引擎不一致[/]"
        bar.update(task, total=p.total, completed=p.done, day=str(p.day), trades=f"{p.trades:,}", engine=engine)

    with bar:
        yield progress


def _publication(market: str) -> str:
    """What ``market``'s exchange publishes daily (its first trading pack's ``[publication] figures``)."""
    from cets.rules.markets import load_market
    from cets.rules.packs import pack_for
    from cets.trading.services import MarketRules

    years = load_market(market).years("trading")
    return MarketRules.from_pack(pack_for(market, "trading", years[0])).publication if years else "by_method"


def _trading_replay_totals(args, con, start, end) -> int:
    """The replay of a market that publishes daily totals (the voluntary market's bulletins, Beijing's BEA days)."""
    import csv
    import json
    from pathlib import Path

    from cets.core.errors import InputError
    from cets.trading.replay_totals import replay_totals_run

    if len(args.files) != 1:
        con.print(f"[red]{args.market}: give the one daily file (ccer_daily_trades.csv, beijing_bea_daily.csv)[/]")
        return 2
    try:
        with _replay_progress(con) as progress:
            rep = replay_totals_run(market=args.market, path=args.files[0], start=start, end=end, log=lambda m: con.print(m), progress=progress)
    except InputError as e:
        for p in e.problems:
            _problem(con, "", p)
        return 2
    out = Path(args.report_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = rep.summary()
    (out / "replay_summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    with (out / "replay_mismatches.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["date", "subject", "field", "ours", "official", "category", "reason"])
        w.writeheader()
        w.writerows(rep.rows())
    con.print_json(json.dumps(summary, ensure_ascii=False))
    for m in rep.engine[:20]:
        con.print(f"[red]✗ engine differs 引擎不一致[/red] {m.date} {m.field}: ours {m.ours} ≠ official {m.official}")
    for u in rep.unparsed:
        con.print(f"[yellow]· not replayed 未回放[/yellow] {u.date} parse_status={u.status}: {u.notes}")
    if rep.outside:
        con.print(f"[yellow]· {len(rep.outside)} row(s) of years no trading pack of {args.market} covers, not replayed "
                  f"({rep.outside[0]} … {rep.outside[-1]}) 规则包未覆盖年度，未回放[/yellow]")
    con.print(("[green]✓" if rep.ok else "[red]✗") + f" {rep.figures} figure(s) of {rep.days} day(s) compared: our engine differs on {len(rep.engine)}; "
              f"the bulletins contradict themselves on {len(rep.published)}; {len(rep.unparsed)} row(s) not parsed by the source, not replayed[/]")
    return 0 if rep.ok else 1


def cmd_trading_sequencer(args) -> int:
    """Run the market's sequencer: apply new commands of the log as they arrive (one process per market), up to
    ``--batch`` per transaction — the group commit's sequencer for commands appended by ``order_place_queued`` /
    ``order_take_queued`` (issue 19)."""
    import time

    from cets.trading.services import sequencer_drain

    con = _console()
    con.print(f"sequencer for market {args.market} 撮合定序 (Ctrl-C to stop)")
    while True:
        n = sequencer_drain(market=args.market, batch=args.batch)
        if n:
            con.print(f"  applied {n} command(s)")
        if args.once:
            return 0
        time.sleep(args.interval)


def cmd_whatif(args) -> int:
    """A what-if run: draft packs applied to the base year's verified data (cets.supervision.whatif); prints the
    per-sector and per-province totals, optionally writes the XLSX. Nothing in the database changes."""
    from pathlib import Path

    from rich.markup import escape
    from rich.table import Table

    from cets.core.errors import CetsError
    from cets.core.quantities import fen_to_yuan
    from cets.supervision import whatif as wi

    con = _console()
    try:
        r = wi.run(packs=args.pack, base=args.base, rules_year=args.rules_year, prices=Path(args.prices) if args.prices else None)
    except CetsError as e:
        con.print(f"[red]✗ {e.code} {e.zh} · {e.en}[/red]")
        return 2
    con.print(escape(f"base {r.market}/{r.year}; average price {fen_to_yuan(r.price_fen)} CNY/t ({r.price_source})"))
    for s in r.sectors:
        con.print(f"  {s.sector}: {s.base_pack_id} ({s.base_mechanism}) → {s.draft_pack_id} ({s.draft_mechanism}, rules {s.rules_year})")
    for by in ("sector", "province"):
        t = Table(title=f"what-if by {by} (t CO2e; cost fen)")
        for c in (by, "entities", "verified", "base", "draft", "change", "base ±", "draft ±", "base cost", "draft cost"):
            t.add_column(c, justify="left" if c == by else "right")
        for x in r.totals(by) + [r.grand_total()]:
            t.add_row(x.key or "total", *(f"{v:,}" for v in (x.entities, x.verified_t, x.base_t, x.draft_t, x.change_t, x.base_balance_t,
                                                              x.draft_balance_t, x.base_cost_fen, x.draft_cost_fen)))
        con.print(t)
    if args.xlsx:
        Path(args.xlsx).write_bytes(wi.xlsx(r))
        con.print(f"✓ {args.xlsx}")
    return 0


def cmd_registry_release_due(args) -> int:
    """Execute the holders' delayed transfers that are due (holder protection; cets.registry.services.protection)."""
    import datetime as dt

    _setup()
    from cets.registry.services import delayed_transfers_release_due

    now = dt.datetime.fromisoformat(args.at) if args.at else None
    if now is not None and now.tzinfo is None:
        from zoneinfo import ZoneInfo

        now = now.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    out = delayed_transfers_release_due(now=now)
    _console().print(f"delayed transfers 延迟转移: executed 已执行 {out['executed']}, returned 已退回 {out['returned']}")
    return 0


def cmd_compliance_fine(args) -> int:
    """The Art. 24 fine range from the exchange's published daily figures (pure, no database): P̄ of the
    month before the deadline under the pack's [penalty] rules, then 5–10 × unsurrendered × P̄."""
    import datetime as dt
    from pathlib import Path

    from cets.compliance.penalty import average_price, fine_range_price_multiple, price_window
    from cets.compliance.tables import read_daily_by_method
    from cets.core.quantities import fen_to_yuan
    from cets.rules.packs import PackError, load_pack

    con = _console()
    try:
        pack = load_pack(args.pack)
        deadline = dt.date.fromisoformat(args.deadline)
        start, end = price_window(deadline, pack.text("penalty.price_window"))
    except (PackError, ValueError) as e:
        con.print(f"[red]✗ {e}[/red]")
        return 2
    rows = _read_table(con, read_daily_by_method, Path(args.prices), start, end)
    if rows is None:
        return 2
    price = average_price(rows, start=start, end=end, instruments=pack.raw("penalty.price_instruments"), methods=pack.raw("penalty.price_methods"),
                          average=pack.text("penalty.price_average"), rounding=pack.text("penalty.price_rounding"))
    if price is None:
        con.print(f"[red]✗ C0803 no counted trades {start} … {end}[/red]")
        return 2
    rng = fine_range_price_multiple(args.unsurrendered, price.price_fen, pack.decimal("penalty.multiple_min"), pack.decimal("penalty.multiple_max"),
                                    pack.text("penalty.fine_rounding"))
    con.print(f"window {start} … {end}: {price.days} trading days, {price.volume_t:,} t, {fen_to_yuan(price.amount_fen)} CNY → "
              f"P̄ = {fen_to_yuan(price.price_fen)} CNY/t")
    con.print(f"✓ fine for {args.unsurrendered:,} t: {fen_to_yuan(rng.min_fen)} … {fen_to_yuan(rng.max_fen)} CNY ({args.pack})")
    return 0


def cmd_parties_resident_id(args) -> int:
    """Check resident identity numbers (GB 11643-1999) read from standard input, one a line (never from the command
    line, which shells keep in their history); print each masked with ✓ or the reason (pure, no database).
    Exit 0 if all are valid, 1 otherwise."""
    import sys

    from cets.core.resident_id import InvalidResidentId, mask, validate

    con = _console()
    bad = 0
    for line in sys.stdin:
        raw = line.strip()
        if not raw:
            continue
        shown = mask(raw.upper())
        try:
            validate(raw)
        except InvalidResidentId as e:
            bad += 1
            con.print(f"[red]✗ {shown}: {e.problem.en}[/red]")
        else:
            con.print(f"✓ {shown}")
    return 1 if bad else 0


def cmd_trading_members(args) -> int:
    """List the exchange's members and service institutions of a market with their kind, status and clients' count."""
    from cets.trading.services import members_list

    con = _console()
    rows = list(members_list(market=args.market))
    for m in rows:
        con.print(f"{m.code}\t{m.kind}\t{m.status}\t{m.organisation.name}\t{m.n_clients} client(s)")
    con.print(f"{len(rows)} member(s) in {args.market}")
    return 0


def cmd_mrv_compute(args) -> int:
    """Monthly unit data → annual unit emissions, pure (no database): 发电设施核算指南 (cn-ets-rules.md §6)."""
    from cets.core.errors import CetsError
    from cets.mrv.calc import AccountingRules, unit_year_emissions
    from cets.mrv.tables import read_monthly, write_annual
    from cets.rules.packs import PackError, load_pack

    con = _console()
    try:
        pack = load_pack(args.pack)
        if pack.kind == "accounting" and "method" in pack.data.get("accounting", {}):
            return _mrv_compute_industry(con, args, pack)
        rules = AccountingRules.from_pack(pack)
    except (PackError, CetsError) as e:
        con.print(f"[red]✗ {e}[/red]")
        return 2
    rows = _read_table(con, read_monthly, args.input, rules)
    if rows is None:
        return 2
    results = unit_year_emissions(rows, rules)
    write_annual(args.out, results)
    con.print(f"✓ {len(results):,} unit-years, emissions {sum(r.emissions_t for r in results):,} t ({args.pack})")
    return 0


def cmd_pcer_compute(args) -> int:
    """One PCER project's monitoring-period reductions from a JSON activity file, pure (no database):
    京环发〔2024〕8号 三(三) and the pack's methodology (cets.mrv.pcer)."""
    import json

    from cets.core.errors import CetsError
    from cets.mrv.pcer import compute
    from cets.rules.packs import PackError, load_pack

    con = _console()
    try:
        with open(args.input, encoding="utf-8") as f:
            activity = json.load(f)
        if not isinstance(activity, dict):
            raise ValueError("the input must be a JSON object of activity data")
        pack = load_pack(args.pack)
        r = compute(pack, args.methodology, activity)
    except (OSError, ValueError, PackError, CetsError) as e:
        con.print(f"[red]✗ {e}[/red]")
        return 2
    con.print(f"baseline {r.baseline_t} t, project {r.project_t} t")
    con.print(f"✓ {r.methodology}: reduction {r.reduction_t:,} t CO2e ({pack.id})")
    return 0


def _mrv_compute_industry(con, args, pack) -> int:
    """Monthly activity rows → annual facility results for steel, cement or aluminium, pure (the pack's
    ``accounting.method``; cets.mrv.accounting_industry). Bad rows: row, column and reason; nothing is written."""
    from cets.mrv.accounting_industry import IndustryRules, facility_years
    from cets.mrv.activity import read_activity, write_facility_years

    rules = IndustryRules.from_pack(pack)
    rows = _read_table(con, read_activity, args.input, rules)
    if rows is None:
        return 2
    results = facility_years(rows, rules)
    write_facility_years(args.out, rules.sector, results)
    con.print(f"✓ {len(results):,} facility-years, emissions {sum(r.emissions_t for r in results):,} t ({args.pack})")
    return 0


def cmd_mrv_intensity(args) -> int:
    """Reported steel / cement / aluminium units → intensities for allocation, pure (cn-ets-rules.md §2.2)."""
    from cets.core.tables import write_csv_atomic
    from cets.mrv.industry import INTENSITY_COLUMNS, read_industry

    con = _console()
    units = _read_table(con, read_industry, args.input)
    if units is None:
        return 2
    write_csv_atomic(args.out, INTENSITY_COLUMNS, [{c: getattr(u, c) for c in INTENSITY_COLUMNS} for u in units])
    con.print(f"✓ {len(units):,} allocation units")
    return 0


def cmd_manage(args) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cets manage", *args.rest])
    return 0


def cmd_supervision_credit_sync(args) -> int:
    """Create the credit records (Measures Art. 38) the rules attach to recorded events (rectification orders, fines,
    blacklist decisions; false-reporting findings create theirs when decided), acting as ``--as`` (a national
    authority user). Idempotent; prints how many it created. Exit 1 with the check code if refused."""
    from django.contrib.auth import get_user_model

    from cets.core.errors import CetsError
    from cets.supervision.enforcement import credit_sync

    user = get_user_model().objects.filter(username=args.user).first()
    if user is None:
        sys.stderr.write(f"no user {args.user!r}\n")
        return 1
    try:
        n = credit_sync(actor=user)
    except CetsError as e:
        sys.stderr.write(f"{e.code} {e.zh} / {e.en}\n")
        return 1
    _console().print(f"credit records created 新增信用记录: {n}")
    return 0


def cmd_allocation_preissue(args) -> int:
    """The pre-issue of a pilot market's free allowances as the stored data give it (``cets.allocation.services
    .preissue_preview``; 京环发〔2024〕8号 三(三)2), per entity: the previous year's allocation and its record, the pack's
    share and rounding, pre-allocation, adjustment, pre-issue (tonnes, int), and the pre-issue in force if one was
    proposed. Reads only: proposing is the bureau's, signed by a second person on the page or the API. Exit 2 for a
    pack without a pre-issue basis (A0303)."""
    import json

    from cets.allocation.models import PreIssue
    from cets.allocation.services import preissue_preview
    from cets.core.errors import CetsError

    try:
        lines = preissue_preview(pack_id=args.pack, year=args.year)
    except CetsError as e:
        sys.stderr.write(f"✗ {e.code} {e.zh} / {e.en}\n")
        return 2
    pre = {q.entity_id: q for q in PreIssue.objects.filter(market=lines[0]["market"], year=args.year).exclude(status=PreIssue.Status.REJECTED)} \
        if lines else {}
    rows = [{"entity_uscc": ln["entity"].uscc, "prev_allocation_t": ln["prev_allocation_t"], "prev_source": ln["prev_source"],
             "prev_compliant": ln["prev_compliant"], "share": str(ln["share"]), "rounding": ln["rounding"], "pre_allocation_t": ln["pre_allocation_t"],
             "pre_adjustment_t": ln["pre_adjustment_t"], "pre_issue_t": ln["pre_issue_t"],
             "in_force_t": pre[ln["entity_id"]].pre_issue_t if ln["entity_id"] in pre else None,
             "status": pre[ln["entity_id"]].status if ln["entity_id"] in pre else None} for ln in lines]
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{args.pack} {args.year} 免费配额预发 pre-issue")
    for col in ("entity", "prev (t)", "from", "compliant", "share", "rounding", "pre-allocation (t)", "adjustment (t)", "pre-issue (t)", "status"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["entity_uscc"], f"{r['prev_allocation_t']:,}", r["prev_source"], "yes" if r["prev_compliant"] else "no", r["share"], r["rounding"],
                  f"{r['pre_allocation_t']:,}", f"{r['pre_adjustment_t']:,}", f"{r['pre_issue_t']:,}", r["status"] or "")
    t.add_row("Σ", "", "", "", "", "", "", "", f"{sum(r['pre_issue_t'] for r in rows):,}", "")
    (Console() if sys.stdout.isatty() else Console(width=200)).print(t)
    return 0


def cmd_cycle_status(args) -> int:
    """The compliance cycle of a market and year (cets.compliance.cycle): a rich table of the steps (due date,
    owner, status, parts done) and the sector figures, or ``--format json`` (the shape of ``cycle_json``)."""
    import datetime as dt
    import json

    from cets.compliance.cycle import cycle_json, cycle_status
    from cets.rules.packs import PackError

    today = dt.date.fromisoformat(args.today) if args.today else None
    try:
        if args.format == "json":
            sys.stdout.write(json.dumps(cycle_json(market=args.market, year=args.year, today=today), ensure_ascii=False, indent=2) + "\n")
            return 0
        states, figures = cycle_status(market=args.market, year=args.year, today=today)
    except PackError as e:
        sys.stderr.write(f"✗ {e}\n")
        return 2
    from rich.console import Console
    from rich.table import Table

    con = Console() if sys.stdout.isatty() else Console(width=220)  # piped: never cut a step code or a date
    style = {"done": "green", "done_late": "yellow", "overdue": "bold red", "due": "bold yellow", "untracked": "dim", "not_applicable": "dim"}
    t = Table(title=f"{args.market} {args.year} 履约周期 compliance cycle")
    for col in ("due", "step", "title", "owner", "sectors", "status", "done", "source"):
        t.add_column(col)
    for st in states:
        s, o = st.step, st.observation
        t.add_row(s.due.isoformat(), s.step, s.title_zh, s.owner, ", ".join(s.sectors), f"[{style.get(st.status, '')}]{st.status}[/]",
                  f"{o.done}/{o.total}" if o.total else "", f"{s.source} [{s.tag}]")
    con.print(t)
    f = Table(title="sectors (sector of an entity-year from the key-emitter list)")
    # "collected" (Beijing automatic collection, 京环发〔2024〕8号 三(四)) only where some obligation was collected
    outcomes = ("on_time", "late", "incomplete", "open") + (("collected",) if any(x.outcomes.get("collected") for x in figures.values()) else ())
    for col in ("sector", "entities", "verified_t", "allocated_t", "issued_t", "surrendered_t", "offset_t", *outcomes):
        f.add_column(col, justify="left" if col == "sector" else "right")
    for sec, x in figures.items():
        f.add_row(sec, *(f"{v:,}" for v in (x.entities, x.verified_t, x.allocated_t, x.issued_t, x.surrendered_t, x.offset_t)),
                  *(str(x.outcomes.get(k, 0)) for k in outcomes))
    con.print(f)
    return 0


def cmd_checks(args) -> int:
    """Print (or ``--write``) the catalogue of numbered checks as Markdown; exit 1 on a duplicated code."""
    from cets import catalogue

    items = catalogue.entries()
    dups = catalogue.duplicates(items)
    text = catalogue.render(items)
    if args.write:
        from pathlib import Path

        Path(args.write).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for code in dups:
        sys.stderr.write(f"duplicated check code {code}\n")
    return 1 if dups else 0


def cmd_rules_check(args) -> int:
    """Validate every rule pack and market file (or those under PATH); print ``FILE: KEY: problem``; exit 1 on any."""
    from cets.rules.check import check_path

    count, problems = check_path(args.path)
    for p in problems:
        print(p)
    print(f"{count} file(s) checked, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems or count == 0 else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cets", description="China carbon emissions trading platform 全国碳排放权交易平台")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the database").set_defaults(func=cmd_migrate)

    imp = sub.add_parser("import", help="import official data").add_subparsers(dest="what", required=True)
    ent = imp.add_parser("entities", help="key emitting entities from the verification disclosures (CSV)")
    ent.add_argument("file")
    ent.add_argument("--sector", default=None, help="power, steel, cement, ... (default: all)")
    ent.add_argument("--year", type=int, default=None)
    ent.set_defaults(func=cmd_import_entities)

    reg = sub.add_parser("registry", help="registry operations and reads").add_subparsers(dest="what", required=True)
    rd = reg.add_parser("release-due", help="execute the holders' delayed transfers that are due")
    rd.add_argument("--at", default=None, help="ISO time to take as now (Asia/Shanghai if no offset); default now")
    rd.set_defaults(func=cmd_registry_release_due)

    bl = reg.add_parser("blocks", help="the history of a CCER serial or block")
    bl.add_argument("serial")
    bl.add_argument("--format", choices=["text", "json"], default="text")
    bl.set_defaults(func=cmd_registry_blocks)

    aud = sub.add_parser("audit", help="registry audit").add_subparsers(dest="what", required=True)
    aud.add_parser("verify", help="recompute every holding from the journal and check the hash chains").set_defaults(func=cmd_audit_verify)

    sv = sub.add_parser("supervision", help="supervision runs: stabilisation triggers, credit records").add_subparsers(dest="what", required=True)
    tr = sv.add_parser("triggers", help="check a trading day against the market-stabilisation triggers")
    tr.add_argument("--day", required=True, help="YYYY-MM-DD")
    tr.add_argument("--market", default=PRIMARY_MARKET)
    tr.set_defaults(func=cmd_supervision_triggers)

    for name, func in (("demo", cmd_demo), ("serve", cmd_serve)):
        sp = sub.add_parser(name)
        sp.add_argument("--addr", default="127.0.0.1:8000")
        sp.add_argument("--workers", type=int, default=2)
        if name == "demo":
            sp.add_argument("--no-serve", action="store_true", help="run the year and print the summary, do not serve")
            sp.add_argument("--seed", type=int, default=2023)
        sp.set_defaults(func=func)

    alloc = sub.add_parser("allocation", help="allocation").add_subparsers(dest="what", required=True)
    comp = alloc.add_parser("compute", help="compute allocation from a unit table (pure, no database)")
    comp.add_argument("--pack", required=True, help="e.g. national/power-2023-2024")
    comp.add_argument("--year", type=int, required=True)
    comp.add_argument("--input", required=True)
    comp.add_argument("--units-out", required=True)
    comp.add_argument("--entities-out", required=True)
    comp.add_argument("--balance-value", help="steel/cement/aluminium: the published balance value (平衡值, tCO2e/t); solved if omitted")
    comp.set_defaults(func=cmd_allocation_compute, django=False)
    pri = alloc.add_parser("preissue", help="a pilot market's pre-issue of free allowances from the stored basis, per entity (reads only)")
    pri.add_argument("--pack", required=True, help="e.g. beijing/emitters-2023-2024")
    pri.add_argument("--year", type=int, required=True)
    pri.add_argument("--format", choices=("table", "json"), default="table")
    pri.set_defaults(func=cmd_allocation_preissue)

    wf = sub.add_parser("whatif", help="a draft allocation pack against a stored year's verified data (nothing is written)")
    wf.add_argument("--pack", action="append", required=True, help="draft pack id, e.g. national/power-2025-2026 (repeat: one per sector)")
    wf.add_argument("--base", required=True, help="market/year, e.g. national/2024")
    wf.add_argument("--rules-year", type=int, default=None, help="the draft pack's year whose rules apply (default: its first year)")
    wf.add_argument("--prices", default=None, help="the exchange's daily figures by trade method (default data/cea-national-official/…)")
    wf.add_argument("--xlsx", default=None, help="write the run as XLSX here")
    wf.set_defaults(func=cmd_whatif)

    trd = sub.add_parser("trading", help="the exchange").add_subparsers(dest="what", required=True)
    rp = trd.add_parser("replay", help="replay a market's official daily figures through the real trading path and reconcile")
    rp.add_argument("files", nargs="+", help="national: cea_daily_by_trade_method.csv cea_daily_quotes.csv; a market publishing daily totals "
                                             "(its pack's publication.figures): the one daily file, e.g. ccer_daily_trades.csv")
    rp.add_argument("--market", default=PRIMARY_MARKET, help="the market replayed (default the primary market)")
    rp.add_argument("--start", help="first date (ISO), default the first in the file")
    rp.add_argument("--end", help="last date (ISO), default the last in the file")
    rp.add_argument("--report-dir", default="var/replay")
    rp.add_argument("--database-url", help="replay into this (empty) PostgreSQL database instead of a temporary SQLite file")
    rp.add_argument("--in-place", action="store_true", help="use the configured database (it must not hold a real market)")
    rp.set_defaults(func=cmd_trading_replay, django=False)
    sq = trd.add_parser("sequencer", help="run a market's sequencer loop")
    sq.add_argument("--market", default=PRIMARY_MARKET)
    sq.add_argument("--interval", type=float, default=0.2)
    sq.add_argument("--once", action="store_true")
    sq.add_argument("--batch", type=int, default=500, help="most commands per transaction (the group commit's batch, issue 19)")
    sq.set_defaults(func=cmd_trading_sequencer)

    mem = trd.add_parser("members", help="the exchange's members and service institutions (Measures draft Art. 19)")
    mem.add_argument("--market", default=PRIMARY_MARKET)
    mem.set_defaults(func=cmd_trading_members)

    par = sub.add_parser("parties", help="participants").add_subparsers(dest="what", required=True)
    rid = par.add_parser("resident-id", help="check GB 11643 resident identity numbers read from standard input, shown masked (pure)")
    rid.set_defaults(func=cmd_parties_resident_id, django=False)

    compl = sub.add_parser("compliance", help="compliance").add_subparsers(dest="what", required=True)
    fine = compl.add_parser("fine", help="Art. 24 fine range from the published daily figures (pure, no database)")
    fine.add_argument("--pack", required=True, help="e.g. national/power-2023-2024")
    fine.add_argument("--deadline", required=True, help="surrender deadline, e.g. 2024-12-31")
    fine.add_argument("--unsurrendered", type=int, required=True, help="tonnes CO2e")
    fine.add_argument("--prices", required=True, help="cea_daily_by_trade_method.csv")
    fine.set_defaults(func=cmd_compliance_fine, django=False)

    mrv = sub.add_parser("mrv", help="monitoring, reporting, verification").add_subparsers(dest="what", required=True)
    mc = mrv.add_parser("compute", help="annual unit or facility emissions from monthly data (pure, no database)")
    mc.add_argument("--pack", required=True, help="an accounting pack, e.g. national/power-2023, national/steel-accounting-2024-2026")
    mc.add_argument("--input", required=True)
    mc.add_argument("--out", required=True)
    mc.set_defaults(func=cmd_mrv_compute, django=False)
    pc = sub.add_parser("pcer", help="Beijing carbon-inclusion (碳普惠) reductions").add_subparsers(dest="what", required=True)
    pcc = pc.add_parser("compute", help="a PCER project's monitoring-period reductions from JSON activity data (pure, no database)")
    pcc.add_argument("--methodology", required=True, help="low_carbon_travel, ev_conversion or hydrogen_fcv")
    pcc.add_argument("--input", required=True, help="JSON object, e.g. {\"vehicle_km\": 100000, \"electricity_kwh\": 15000}")
    pcc.add_argument("--pack", default="beijing/pcer-2023-2026")
    pcc.set_defaults(func=cmd_pcer_compute, django=False)
    mi = mrv.add_parser("intensity", help="steel/cement/aluminium reported units → intensities (pure, no database)")
    mi.add_argument("--input", required=True)
    mi.add_argument("--out", required=True)
    mi.set_defaults(func=cmd_mrv_intensity, django=False)

    rules = sub.add_parser("rules", help="rule packs and markets").add_subparsers(dest="what", required=True)
    rc = rules.add_parser("check", help="validate the rule packs and market.toml files (pure, no database)")
    rc.add_argument("path", nargs="?", default=None, help="a pack folder or file (default: every pack folder, incl. $CETS_PACK_DIRS)")
    rc.set_defaults(func=cmd_rules_check, django=False)

    csy = sv.add_parser("credit-sync", help="create the credit records the rules attach to recorded events (idempotent)")
    csy.add_argument("--as", dest="user", required=True, help="username of a national authority user")
    csy.set_defaults(func=cmd_supervision_credit_sync)

    cyc = sub.add_parser("cycle", help="compliance cycle").add_subparsers(dest="what", required=True)
    cs = cyc.add_parser("status", help="the year's steps, deadlines and statuses, and the sector figures")
    cs.add_argument("--market", default=PRIMARY_MARKET)
    cs.add_argument("--year", type=int, required=True)
    cs.add_argument("--format", choices=("table", "json"), default="table")
    cs.add_argument("--today", help="as of this day (ISO), default today in Asia/Shanghai")
    cs.set_defaults(func=cmd_cycle_status)

    chk = sub.add_parser("checks", help="the catalogue of numbered checks (Markdown)")
    chk.add_argument("--write", help="write it to this file (docs/checks.md)")
    chk.set_defaults(func=cmd_checks)

    man = sub.add_parser("manage", help="run a Django management command")
    man.add_argument("rest", nargs=argparse.REMAINDER)
    man.set_defaults(func=cmd_manage)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "django", True):
        _setup()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
