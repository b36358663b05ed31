"""``cets allocation compute``: pure computation from a CSV table, for every pack. No database.

Power packs read one row per generating unit (columns from :func:`tables.input_columns`); steel, cement
and aluminium packs one row per allocation unit (:func:`tables.read_lines`); Beijing packs one row per
entity (:func:`tables.read_beijing`; both outputs carry the entity table). Every malformed row is
reported (file, row, column, value, reason zh/en) and nothing is written (exit 2); outputs are written
atomically.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# The mechanism a market names for a sector and year (rules/packs/<market>/market.toml) → the pure module
# family that computes it from an input table.
FAMILIES = {"benchmark_power": "power", "verified_emissions": "industry", "industry_balance_value": "industry",
            "beijing_capped_free": "beijing"}


def compute(args, con, problem) -> int:
    """Run the command; ``con`` a rich console, ``problem(con, label, InputProblem)`` prints a problem.
    Returns the exit code: 0 written, 2 refused (unknown pack or year, bad rows, bad balance value)."""
    from cets.rules.markets import load_market
    from cets.rules.packs import PackError, load_pack

    from . import tables
    from .beijing import BeijingRules, allocate_beijing
    from .formulas import PowerRules, allocate
    from .industry import IndustryRules, allocate_industry

    try:
        pack = load_pack(args.pack)
        family = FAMILIES.get(load_market(pack.market).mechanism(pack.sector, args.year))
        if family is None:
            raise PackError(f"{pack.id}: no command-line allocation for {args.year}")
        industry, beijing = family == "industry", family == "beijing"
        rules = (BeijingRules.from_pack(pack, args.year) if beijing else IndustryRules.from_pack(pack, args.year) if industry
                 else PowerRules.from_pack(pack, args.year))
    except PackError as e:
        con.print(f"[red]✗ {e}[/red]")
        return 2
    bp = None
    if getattr(args, "balance_value", None):
        try:
            bp = Decimal(args.balance_value)
            if not bp.is_finite() or bp <= 0:
                raise InvalidOperation
        except InvalidOperation:
            con.print(f"[red]✗ --balance-value {args.balance_value!r}: 平衡值应为正数 / must be a number > 0[/red]")
            return 2
    try:
        rows, problems = (tables.read_beijing(args.input) if beijing else tables.read_lines(args.input, rules) if industry
                          else tables.read_units(args.input, rules))
    except FileNotFoundError:
        con.print(f"[red]✗ {args.input}: 文件不存在 / file not found[/red]")
        return 2
    if problems:
        for p in problems:
            problem(con, "", p)
        con.print(f"[red]✗ {len(problems)} problem(s); nothing written 未写出任何结果[/red]")
        return 2
    if beijing:
        results = allocate_beijing(rows, rules)
        tables.write_csv_atomic(args.units_out, tables.BEIJING_OUTPUT_COLUMNS, tables.as_rows(results))
        tables.write_csv_atomic(args.entities_out, tables.BEIJING_OUTPUT_COLUMNS, tables.as_rows(results))
        paid = f", paid allocation (auction) {rules.auction_volume_t:,} t" if rules.auction_volume_t else ""
        con.print(f"✓ {len(results):,} entities, free allocation {sum(r.free_allocation_t for r in results):,} t{paid} ({args.pack}, {args.year})")
        return 0
    if industry:
        try:
            used, lines, entities = allocate_industry(rows, rules, balance_value=bp)
        except ValueError as e:
            con.print(f"[red]✗ {e}[/red]")
            return 2
        tables.write_csv_atomic(args.units_out, tables.LINE_OUTPUT_COLUMNS, tables.as_rows(lines))
        tables.write_csv_atomic(args.entities_out, tables.INDUSTRY_ENTITY_OUTPUT_COLUMNS, tables.as_rows(entities))
        con.print(f"✓ {len(lines):,} lines, {len(entities):,} entities, balance value {used if used is not None else '—'}, "
                  f"allocation {sum(e.final_allocation_t for e in entities):,} t vs emissions {sum(e.verified_emissions_t for e in entities):,} t "
                  f"({args.pack}, {args.year})")
        return 0
    unit_rows, entity_rows = allocate(rows, rules)
    tables.write_csv_atomic(args.units_out, tables.unit_output_columns(rules), tables.as_rows(unit_rows))
    tables.write_csv_atomic(args.entities_out, tables.entity_output_columns(rules), tables.as_rows(entity_rows))
    con.print(f"✓ {len(unit_rows):,} units, {len(entity_rows):,} entities, final allocation "
              f"{sum(e.final_allocation_t for e in entity_rows):,} t ({args.pack}, {args.year})")
    return 0
