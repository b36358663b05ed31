"""The ``cets`` command.

    cets demo [--no-serve] [--addr 127.0.0.1:8000]   real data in, compliance year 2023 through, serve
    cets serve [--addr HOST:PORT] [--workers N]     serve the web platform (gunicorn)
    cets migrate                                    create or upgrade the database
    cets import entities FILE [--sector power] [--year 2023]
    cets audit verify                               recompute every holding from the journal
    cets manage ARGS...                             any Django management command
"""

from __future__ import annotations

import argparse
import os
import sys


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


def cmd_migrate(args) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
    return 0


def cmd_import_entities(args) -> int:
    from django.core.management import call_command

    from cets.core.errors import InputError
    from cets.parties.services import entities_import

    call_command("migrate", interactive=False, verbosity=0)
    con = _console()
    try:
        result = entities_import(path=args.file, sector=args.sector, year=args.year)
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


def cmd_audit_verify(args) -> int:
    from cets.registry.audit import audit_verify
    from cets.registry.selectors import unit_type_totals

    con = _console()
    report = audit_verify()
    con.print(f"journal entries 分录: {report.transfers:,} · accounts 账户: {report.accounts:,} · holdings 持仓: {report.holdings:,}")
    for row in unit_type_totals():
        con.print(f"  {row['unit_type']}: created {row['created_t']:,} = national total {row['national_total_t']:,} + issued {row['issued_t']:,}; "
                  f"issued = circulating {row['circulating_t']:,} + surrendered {row['surrendered_t']:,} + cancelled {row['cancelled_t']:,} "
                  f"+ deducted {row['deducted_t']:,} + carried over {row['carried_over_t']:,}" + ("" if row["balanced"] else " ✗"))
    if report.ok:
        con.print("[green]✓ audit verify: the journal proves every holding 台账与持仓一致[/green]")
        return 0
    for p in report.problems:
        _problem(con, "", p)
    con.print(f"[red]✗ audit verify failed: {len(report.problems)} problem(s) 审计未通过[/red]")
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


def cmd_manage(args) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cets manage", *args.rest])
    return 0


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

    aud = sub.add_parser("audit", help="registry audit").add_subparsers(dest="what", required=True)
    aud.add_parser("verify", help="recompute every holding from the journal and check the hash chains").set_defaults(func=cmd_audit_verify)

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
