"""``cets rules check``: validate rule packs and market files. Pure functions: no Django; reads files only.

Each problem is a :class:`Problem` printed as ``FILE: KEY: problem``. A pack (``<market>/<name>.toml``) needs a
``[pack]`` table with ``id`` (= its path), ``market`` (= its folder), ``sector``, ``years``, ``kind`` (one of
:data:`~cets.rules.packs.KINDS`) and ``schema_version`` (one of :data:`~cets.rules.packs.SCHEMA_VERSIONS`); numbers
are quoted decimal strings (whole numbers only for ``year``, years, ``*_years``, ``*_days`` and ``schema_version``; never a
float); values under keys ending in a date suffix (:data:`DATE_SUFFIXES`) are ISO dates; rounding rules
(``rounding``, ``*_rounding``, ``[rounding]``) are known names (:data:`ROUNDINGS`); every ``[[unconfirmed]]``
key names a value of the pack. A ``market.toml`` (see :mod:`cets.rules.markets`) needs its ``[market]`` keys,
unique sector and instrument codes, and pack entries whose pack exists, belongs to the market, serves the
entry's kind (its ``kind``, or a ``[<kind>]`` table in it) and covers every year named; allocation entries name a
mechanism; no two entries share a (kind, sector, year).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .packs import KINDS, MARKET_FILE, SCHEMA_VERSIONS, PackError, pack_roots, read_toml

REQUIRED_PACK_KEYS = ("id", "market", "sector", "years", "kind", "schema_version")
DATE_SUFFIXES = ("_by", "_due", "deadline", "_on", "_from", "_until", "_before", "_to")
# core.quantities.apply_rounding: floor, none, half_up:N; trading.book.price_band: half_up, inside.
ROUNDINGS = ("floor", "none", "half_up", "inside")
ROUNDING_PLACES = re.compile(r"half_up:\d{1,2}")
INT_KEYS = re.compile(r"(^|_)years?$|_days$|^schema_version$")
MECHANISM_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


def _read(path: Path, shown: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    try:
        return read_toml(path)[0], []
    except PackError as e:
        return None, [Problem(shown, "-", str(e).removeprefix(f"{path}: "))]


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_rounding(value: Any) -> bool:
    return isinstance(value, str) and (value in ROUNDINGS or bool(ROUNDING_PLACES.fullmatch(value)))


def _values(node: Any, path: tuple[str, ...] = ()):
    """(key parts, value) of every leaf; items of a list of plain values share the list's key."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _values(v, (*path, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if isinstance(v, (dict, list)):
                yield from _values(v, (*path[:-1], f"{path[-1]}[{i}]") if path else (f"[{i}]",))
            else:
                yield path, v
    else:
        yield path, node


def _has(data: dict[str, Any], dotted: str) -> bool:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _check_years(years: Any, shown: str, key: str) -> list[Problem]:
    if not isinstance(years, list) or not years or not all(isinstance(y, int) and not isinstance(y, bool) and 2000 <= y <= 2100 for y in years):
        return [Problem(shown, key, "must be a non-empty list of years (whole numbers, e.g. [2023, 2024])")]
    if len(set(years)) != len(years):
        return [Problem(shown, key, "names a year twice")]
    return []


def check_pack_data(data: dict[str, Any], *, shown: str, expected_id: str | None = None) -> list[Problem]:
    """Problems of one parsed pack; ``expected_id`` is ``<folder>/<file stem>`` (None: not checked)."""
    out: list[Problem] = []
    head = data.get("pack")
    if not isinstance(head, dict):
        return [Problem(shown, "pack", "missing [pack] table")]
    for key in REQUIRED_PACK_KEYS:
        if key not in head:
            out.append(Problem(shown, f"pack.{key}", "missing"))
    if expected_id is not None and "id" in head and head["id"] != expected_id:
        out.append(Problem(shown, "pack.id", f"is {head['id']!r}, expected {expected_id!r} (the file's path)"))
    if expected_id is not None and "market" in head and head["market"] != expected_id.split("/")[0]:
        out.append(Problem(shown, "pack.market", f"is {head['market']!r}, expected the folder name {expected_id.split('/')[0]!r}"))
    for key in ("id", "market", "sector"):
        if key in head and (not isinstance(head[key], str) or not head[key]):
            out.append(Problem(shown, f"pack.{key}", "must be a non-empty string"))
    if "years" in head:
        out += _check_years(head["years"], shown, "pack.years")
    if "kind" in head and head["kind"] not in KINDS:
        out.append(Problem(shown, "pack.kind", f"{head['kind']!r} is not one of {', '.join(KINDS)}"))
    if "schema_version" in head and head["schema_version"] not in SCHEMA_VERSIONS:
        out.append(Problem(shown, "pack.schema_version", f"{head['schema_version']!r} is not supported (supported: {SCHEMA_VERSIONS})"))
    for parts, value in _values(data):
        key = ".".join(parts)
        names = [re.sub(r"\[\d+\]$", "", p) for p in parts]
        last = names[-1] if names else ""
        if isinstance(value, float):
            out.append(Problem(shown, key, "is a float; write numbers as quoted decimal strings"))
        elif isinstance(value, int) and not isinstance(value, bool) and not INT_KEYS.search(last):
            out.append(Problem(shown, key, f"is a bare number; write it as a quoted decimal string (\"{value}\")"))
        if any(n.endswith(DATE_SUFFIXES) for n in names) and isinstance(value, str) and not _is_date(value):
            out.append(Problem(shown, key, f"{value!r} is not an ISO date (YYYY-MM-DD)"))
        if (last == "rounding" or last.endswith("_rounding") or (len(names) > 1 and names[-2] == "rounding")) and not _is_rounding(value):
            out.append(Problem(shown, key, f"{value!r} is not a known rounding ({', '.join(ROUNDINGS)}, half_up:N)"))
    for i, u in enumerate(data.get("unconfirmed", [])):
        if not isinstance(u, dict) or not all(k in u for k in ("key", "tag", "note_en", "note_zh")):
            out.append(Problem(shown, f"unconfirmed[{i}]", "needs key, tag, note_en and note_zh"))
        elif not _has(data, str(u["key"])):
            out.append(Problem(shown, f"unconfirmed[{i}].key", f"{u['key']!r} names no value of the pack"))
    return out


def check_pack_file(path: Path, shown: str | None = None) -> list[Problem]:
    """Problems of the pack file ``<folder>/<market>/<name>.toml``."""
    shown = shown or str(path)
    data, out = _read(path, shown)
    if data is None:
        return out
    return check_pack_data(data, shown=shown, expected_id=f"{path.parent.name}/{path.stem}")


def _find_pack(pack_id: str, roots: list[Path]) -> Path | None:
    for root in roots:
        p = root / f"{pack_id}.toml"
        if p.is_file() and p.name != MARKET_FILE:
            return p
    return None


def check_market_file(path: Path, shown: str | None = None, roots: list[Path] | None = None) -> list[Problem]:
    """Problems of ``<folder>/<market>/market.toml``; packs are looked up in its own folder, then ``roots``
    (default: :func:`~cets.rules.packs.pack_roots`)."""
    shown = shown or str(path)
    data, out = _read(path, shown)
    if data is None:
        return out
    roots = [path.parent.parent, *(roots if roots is not None else pack_roots())]
    if data.get("schema_version") not in SCHEMA_VERSIONS:
        out.append(Problem(shown, "schema_version", f"{data.get('schema_version')!r} is not supported (supported: {SCHEMA_VERSIONS})"))
    m = data.get("market")
    if not isinstance(m, dict):
        return [*out, Problem(shown, "market", "missing [market] table")]
    for key in ("id", "name_zh", "name_en", "calendar"):
        if not isinstance(m.get(key), str) or not m.get(key):
            out.append(Problem(shown, f"market.{key}", "missing or not a non-empty string"))
    if m.get("id") not in (None, path.parent.name):
        out.append(Problem(shown, "market.id", f"is {m['id']!r}, expected the folder name {path.parent.name!r}"))
    for key in ("jurisdiction_levels", "account_kinds"):
        v = m.get(key)
        if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
            out.append(Problem(shown, f"market.{key}", "must be a non-empty list of names"))
        elif len(set(v)) != len(v):
            out.append(Problem(shown, f"market.{key}", "names an item twice"))
    for table, keys in (("instruments", ("code", "name_zh", "name_en", "unit_type")), ("sectors", ("code", "name_zh", "name_en"))):
        seen: set[str] = set()
        for i, item in enumerate(data.get(table, [])):
            for key in keys:
                if not isinstance(item.get(key), str) or not item.get(key):
                    out.append(Problem(shown, f"{table}[{i}].{key}", "missing or not a non-empty string"))
            code = item.get("code")
            if code in seen:
                out.append(Problem(shown, f"{table}[{i}].code", f"{code!r} is not unique"))
            seen.add(code)
            if code == "*":
                out.append(Problem(shown, f"{table}[{i}].code", "'*' is reserved (every sector)"))
    industries = [s.get("industry_zh") for s in data.get("sectors", []) if s.get("industry_zh")]
    if len(set(industries)) != len(industries):
        out.append(Problem(shown, "sectors.industry_zh", "an industry name is given to two sectors"))
    sectors = {s.get("code") for s in data.get("sectors", [])}
    taken: dict[tuple[str, str, int], int] = {}
    for i, e in enumerate(data.get("packs", [])):
        at = f"packs[{i}]"
        kind, sector, years, pid = e.get("kind"), e.get("sector"), e.get("years"), e.get("pack")
        if kind not in KINDS:
            out.append(Problem(shown, f"{at}.kind", f"{kind!r} is not one of {', '.join(KINDS)}"))
        if sector != "*" and sector not in sectors:
            out.append(Problem(shown, f"{at}.sector", f"{sector!r} is not a sector of the market's registry (nor '*')"))
        year_problems = _check_years(years, shown, f"{at}.years")
        out += year_problems
        mech = e.get("mechanism")
        if kind == "allocation" and (not isinstance(mech, str) or not MECHANISM_NAME.fullmatch(mech)):
            out.append(Problem(shown, f"{at}.mechanism", "an allocation entry names its mechanism (lower_case name)"))
        if kind != "allocation" and mech is not None:
            out.append(Problem(shown, f"{at}.mechanism", "only allocation entries name a mechanism"))
        if not year_problems:
            for y in years:
                if (kind, sector, y) in taken:
                    out.append(Problem(shown, at, f"{kind} {sector} {y} is already given by packs[{taken[(kind, sector, y)]}]"))
                taken.setdefault((kind, sector, y), i)
        if not isinstance(pid, str) or "/" not in pid:
            out.append(Problem(shown, f"{at}.pack", "must be a pack id '<market>/<name>'"))
            continue
        ppath = _find_pack(pid, roots)
        if ppath is None:
            out.append(Problem(shown, f"{at}.pack", f"no pack {pid!r}"))
            continue
        pdata, _ = _read(ppath, str(ppath))
        head = (pdata or {}).get("pack", {})
        if head.get("market") != m.get("id"):
            out.append(Problem(shown, f"{at}.pack", f"{pid} is a pack of market {head.get('market')!r}"))
        if kind in KINDS and head.get("kind") != kind and kind not in (pdata or {}):
            out.append(Problem(shown, f"{at}.pack", f"{pid} is a {head.get('kind')!r} pack and has no [{kind}] table"))
        if not year_problems:
            missing = [y for y in years if y not in (head.get("years") or [])]
            if missing:
                out.append(Problem(shown, f"{at}.years", f"{pid} does not cover {missing}"))
    return out


def check_path(path: Path | str | None = None) -> tuple[int, list[Problem]]:
    """Check every pack and market file under ``path`` (a folder or one file; default: every pack folder).
    Returns (files checked, problems)."""
    files: list[Path] = []
    for target in [Path(path)] if path is not None else pack_roots():
        if target.is_file():
            files.append(target)
        elif target.is_dir():
            files += sorted(target.rglob("*.toml"))
        else:
            return 0, [Problem(str(target), "-", "no such file or folder")]
    cwd = Path.cwd()
    problems: list[Problem] = []
    for f in files:
        shown = str(f.relative_to(cwd)) if f.is_absolute() and cwd in f.parents else str(f)
        problems += check_market_file(f, shown) if f.name == MARKET_FILE else check_pack_file(f, shown)
    return len(files), problems
