"""Load and validate rule packs (``rules/packs/<market>/<sector>-<period>.toml``).

A pack is data: benchmarks, factors, ratios, deadlines and rounding for one market, sector and
period, each value with its source in a comment. Numeric values are TOML *strings* so that they are
parsed as exact :class:`~decimal.Decimal`; a float in a pack is refused.

A market is a folder of packs with a ``market.toml`` (:mod:`cets.rules.markets`): its sector registry and
which pack applies to each (kind, sector, year). :func:`pack_for` consults that table first.

Pack folders: :data:`PACK_DIR` (the shipped packs), then every folder named in the environment variable
``CETS_PACK_DIRS`` (``os.pathsep``-separated), each holding ``<market>/<name>.toml`` files. A new market is a
new folder there, with no Python change; a pack id found in several folders is taken from the first.

Errors: :class:`PackError` (unknown pack id, missing key, a number written as a float).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from .files import MARKET_FILE, PACK_DIR, PACK_DIRS_ENV, PackError, pack_roots, read_toml  # noqa: F401 (re-exported)

# The kinds of pack (``[pack].kind``) and the pack format versions (``[pack].schema_version``) this code reads.
KINDS = ("allocation", "accounting", "compliance", "trading", "emitter_list", "cycle", "stabilisation", "registry", "supervision", "offsets")
SCHEMA_VERSIONS = (1,)





def pack_path(pack_id: str, roots: tuple[Path, ...] | None = None) -> Path | None:
    """The file of ``pack_id`` in the first pack folder that has it (never outside that folder), or None."""
    for root in roots if roots is not None else pack_roots():
        path = root / f"{pack_id}.toml"
        if path.is_file() and path.name != MARKET_FILE and root.resolve() in path.resolve().parents:
            return path
    return None





@dataclass(frozen=True)
class Unconfirmed:
    key: str
    tag: str
    note_en: str
    note_zh: str


@dataclass(frozen=True)
class Pack:
    """A loaded rule pack. ``data`` is the raw TOML tree; use the typed accessors."""

    id: str
    data: dict[str, Any]
    path: Path
    sha256: str = ""  # hex SHA-256 of the file's bytes: store it with the pack id beside every result computed from the pack

    @property
    def market(self) -> str:
        return self.data["pack"]["market"]

    @property
    def sector(self) -> str:
        return self.data["pack"]["sector"]

    @property
    def kind(self) -> str:
        """``allocation`` (the default when ``[pack].kind`` is absent) or ``accounting`` (MRV rules of an emission year)."""
        return self.data["pack"].get("kind", "allocation")

    @property
    def schema_version(self) -> int:
        return int(self.data["pack"].get("schema_version", 1))

    @property
    def years(self) -> list[int]:
        return list(self.data["pack"]["years"])

    @property
    def title_zh(self) -> str:
        return self.data["pack"].get("title_zh", "")

    @property
    def title_en(self) -> str:
        return self.data["pack"].get("title_en", "")

    @property
    def document(self) -> str:
        return self.data["pack"].get("document", "")

    @property
    def unconfirmed(self) -> list[Unconfirmed]:
        return [Unconfirmed(**u) for u in self.data.get("unconfirmed", [])]

    def raw(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise PackError(f"{self.id}: missing key {dotted!r}")
            node = node[part]
        return node

    def decimal(self, dotted: str) -> Decimal:
        value = self.raw(dotted)
        if not isinstance(value, str):
            raise PackError(f"{self.id}: {dotted} must be a quoted decimal string, got {type(value).__name__}")
        try:
            return Decimal(value)
        except InvalidOperation:
            raise PackError(f"{self.id}: {dotted} = {value!r} is not a decimal") from None

    def date(self, dotted: str) -> dt.date:
        value = self.raw(dotted)
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            raise PackError(f"{self.id}: {dotted} = {value!r} is not an ISO date") from None

    def text(self, dotted: str) -> str:
        return str(self.raw(dotted))

    def flag(self, dotted: str) -> bool:
        value = self.raw(dotted)
        if not isinstance(value, bool):
            raise PackError(f"{self.id}: {dotted} must be true or false")
        return value

    def is_unconfirmed(self, dotted: str) -> bool:
        return any(dotted == u.key or dotted.startswith(u.key + ".") for u in self.unconfirmed)

    def covers(self, year: int) -> bool:
        return year in self.years


def _check_no_floats(node: Any, path: str, pack_id: str) -> None:
    if isinstance(node, float):
        raise PackError(f"{pack_id}: {path} is a float; write numbers as quoted strings")
    if isinstance(node, dict):
        for k, v in node.items():
            _check_no_floats(v, f"{path}.{k}" if path else k, pack_id)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _check_no_floats(v, f"{path}[{i}]", pack_id)





@lru_cache(maxsize=None)
def _load_pack(pack_id: str, roots: tuple[Path, ...]) -> Pack:
    path = pack_path(pack_id, roots)
    if path is None:
        raise PackError(f"no rule pack {pack_id!r} (looked in {', '.join(str(r) for r in roots)})")
    data, sha256 = read_toml(path)
    declared = data.get("pack", {}).get("id")
    if declared != pack_id:
        raise PackError(f"{path}: [pack].id is {declared!r}, expected {pack_id!r}")
    _check_no_floats(data, "", pack_id)
    return Pack(id=pack_id, data=data, path=path, sha256=sha256)


def load_pack(pack_id: str) -> Pack:
    """Load ``national/power-2023-2024`` from ``<pack folder>/national/power-2023-2024.toml``.

    Raises :class:`PackError` if the file does not exist, its ``[pack].id`` differs from the file
    name, or any number is a float. Cached per pack id and pack folders (``load_pack.cache_clear()``).
    """
    return _load_pack(pack_id, tuple(pack_roots()))


load_pack.cache_clear = _load_pack.cache_clear  # type: ignore[attr-defined]


def available_packs() -> list[str]:
    """Every pack id in the pack folders (``market.toml`` files are markets, not packs)."""
    ids = {str(p.relative_to(root).with_suffix("")) for root in pack_roots() if root.is_dir()
           for p in root.rglob("*.toml") if p.name != MARKET_FILE}
    return sorted(ids)


def pack_for(market: str, sector: str, year: int, *, kind: str = "allocation") -> Pack:
    """The ``kind`` pack (``allocation`` by default) of ``market``/``sector`` for ``year``; PackError if none or several.

    The market's table (``<market>/market.toml`` ``[[packs]]``) decides first; a market-wide entry (``sector = "*"``)
    serves every sector. Older calls that name a market-wide kind as the sector with the default kind
    (``pack_for(market, "trading", year)``) get that kind's pack. Without a table entry, the pack is found as before:
    the one ``<market>/<sector>-*`` pack of that kind whose years include ``year``."""
    from .markets import load_market

    try:
        table = load_market(market)
    except PackError:
        table = None
    if table is not None:
        legacy = kind == "allocation" and sector in KINDS and sector not in table.sector_codes
        pid = table.find_pack_id(sector, "*", year) if legacy else table.find_pack_id(kind, sector, year)
        if pid is not None:
            pack = load_pack(pid)
            if not pack.covers(year):
                raise PackError(f"{table.path}: {pid} named for {kind}/{sector} {year} does not cover {year}")
            return pack
    found = [load_pack(pid) for pid in available_packs() if pid.startswith(f"{market}/{sector}-")]
    found = [p for p in found if p.covers(year) and (p.kind == kind or (kind == "allocation" and p.kind == sector))]
    if len(found) != 1:
        raise PackError(f"expected one {market}/{sector} {kind} pack for {year}, found {[p.id for p in found]}")
    return found[0]
