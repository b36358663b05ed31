"""Reading and writing allocation tables as CSV. Pure: no Django, no database.

``read_units`` validates every row and collects every problem (file, row, column, value, reason in
Chinese and English) before anything is computed; ``write_csv_atomic`` writes to a temporary file
beside the target and renames it, so a failed run never leaves partial output.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path

from cets.core.errors import InputProblem
from cets.core.uscc import InvalidUscc, validate_uscc

from .formulas import CATEGORIES, EntityAllocation, UnitAllocation, UnitInput

UNIT_INPUT_COLUMNS = ("entity_uscc", "unit_id", "category", "rated_capacity_mw", "generation_mwh", "heat_supplied_gj", "load_factor",
                      "verified_emissions_t", "prev_verified_emissions_t")
UNIT_OUTPUT_COLUMNS = tuple(f.name for f in fields(UnitAllocation))
ENTITY_OUTPUT_COLUMNS = tuple(f.name for f in fields(EntityAllocation))


def _decimal(text: str, *, low: Decimal | None = None, high: Decimal | None = None) -> Decimal:
    if "e" in text.lower() or not text.strip():
        raise ValueError
    d = Decimal(text.strip())
    if not d.is_finite() or (low is not None and d < low) or (high is not None and d > high):
        raise ValueError
    return d


def _nonempty(text: str) -> str:
    if not text.strip():
        raise ValueError
    return text.strip()


def _category(text: str) -> str:
    if text.strip() not in CATEGORIES:
        raise ValueError
    return text.strip()


def _tonnes(text: str) -> int:
    t = text.strip()
    if not t.isdigit():
        raise ValueError
    return int(t)


def read_units(path: Path | str) -> tuple[list[UnitInput], list[InputProblem]]:
    """Parse a unit table (one row per generating unit; columns :data:`UNIT_INPUT_COLUMNS`).

    ``generation_mwh`` MWh, ``heat_supplied_gj`` GJ, ``load_factor`` a fraction 0–1, emissions in
    whole tonnes. Returns the units and every problem found; a missing column is one problem on row 1.
    """
    path = Path(path)
    problems: list[InputProblem] = []
    units: list[UnitInput] = []
    seen: set[tuple[str, str]] = set()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in UNIT_INPUT_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            return [], [InputProblem(path.name, 1, ",".join(missing), "", f"缺少列：{'、'.join(missing)}", f"missing columns: {', '.join(missing)}")]
        for row_no, rec in enumerate(reader, start=2):
            bad = []

            def field(name, parse, zh, en):
                value = rec.get(name) or ""
                try:
                    return parse(value)
                except (ValueError, InvalidOperation, InvalidUscc) as e:
                    detail = e.problem if isinstance(e, InvalidUscc) else None
                    bad.append(InputProblem(path.name, row_no, name, value, detail.zh if detail else zh, detail.en if detail else en))
                    return None

            uscc = field("entity_uscc", validate_uscc, "", "")
            unit_id = field("unit_id", _nonempty, "机组编号为空", "unit id is empty")
            category = field("category", _category, "机组类别应为 I、II、III 或 IV", "category must be I, II, III or IV")
            cap = field("rated_capacity_mw", lambda v: _decimal(v, low=Decimal(0)), "额定容量应为非负数", "rated capacity must be a number ≥ 0")
            gen = field("generation_mwh", lambda v: _decimal(v, low=Decimal(0)), "发电量应为非负数（MWh）", "generation must be a number ≥ 0 (MWh)")
            heat = field("heat_supplied_gj", lambda v: _decimal(v, low=Decimal(0)), "供热量应为非负数（GJ）", "heat supplied must be a number ≥ 0 (GJ)")
            lf = field("load_factor", lambda v: _decimal(v, low=Decimal(0), high=Decimal(1)), "负荷系数应在0到1之间", "load factor must be a fraction 0–1")
            e = field("verified_emissions_t", _tonnes, "核查排放量应为非负整数（吨）", "verified emissions must be whole tonnes ≥ 0")
            prev = field("prev_verified_emissions_t", _tonnes, "上年核查排放量应为非负整数（吨）", "previous-year emissions must be whole tonnes ≥ 0")
            if not bad and (uscc, unit_id) in seen:
                bad.append(InputProblem(path.name, row_no, "unit_id", unit_id, "机组重复", "duplicate unit of this entity"))
            if bad:
                problems.extend(bad)
                continue
            seen.add((uscc, unit_id))
            units.append(UnitInput(entity_uscc=uscc, unit_id=unit_id, category=category, generation_mwh=gen, heat_supplied_gj=heat,
                                   load_factor=lf, verified_emissions_t=e, prev_verified_emissions_t=prev, rated_capacity_mw=cap))
    return units, problems


def write_csv_atomic(path: Path | str, columns: Sequence[str], rows: Iterable[dict]) -> None:
    """Write ``rows`` to ``path`` via a temporary file and an atomic rename (no partial output)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(columns))
            w.writeheader()
            for r in rows:
                w.writerow({k: (str(v) if isinstance(v, Decimal) else v) for k, v in r.items() if k in columns})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def as_rows(items) -> list[dict]:
    return [asdict(i) for i in items]
