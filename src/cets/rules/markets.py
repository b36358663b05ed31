"""Markets as data: ``<pack folder>/<market>/market.toml``. Pure: no Django, no I/O beyond reading the file.

A market file names the market (zh/en), its instruments and unit types, account kinds, jurisdiction levels, the
working-day calendar, its **sector registry** (code, zh/en names, the industry name of the official disclosures) and
**which pack applies to each (kind, sector, year)**, with the allocation mechanism of each allocation entry::

    schema_version = 1
    [market]
    id = "national"                      # = the folder name
    name_zh = "全国碳排放权交易市场"
    name_en = "National carbon emissions trading market"
    calendar = "cn_workdays"             # cets.core.workdays (chinese_calendar + overrides)
    jurisdiction_levels = ["national", "province", "city"]
    account_kinds = ["national_total", "entity", ...]
    [[instruments]]
    code = "CEA"
    name_zh = "全国碳排放配额"
    name_en = "China emission allowance"
    unit_type = "CEA-{vintage}"          # how its unit types are named
    [[sectors]]
    code = "power"
    name_zh = "发电"
    name_en = "power generation"
    industry_zh = "发电"                  # the industry name of the official disclosures
    [[packs]]
    kind = "allocation"                  # one of cets.rules.packs.KINDS
    sector = "power"                     # a sector code, or "*" for every sector of the market
    years = [2023, 2024]
    pack = "national/power-2023-2024"
    mechanism = "benchmark_power"        # allocation entries only: the mechanism module's name

A sector-specific entry wins over a ``"*"`` entry of the same kind and year. :func:`load_market` raises
:class:`~cets.rules.packs.PackError` on a missing file or key; ``cets rules check`` reports every problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .files import MARKET_FILE, PackError, pack_roots, read_toml

ANY_SECTOR = "*"


@dataclass(frozen=True)
class Sector:
    code: str
    name_zh: str
    name_en: str
    industry_zh: str = ""  # the industry column of the official verification disclosures ('' if none)

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class Instrument:
    code: str
    name_zh: str
    name_en: str
    unit_type: str  # e.g. "CEA-{vintage}", "CCER-{project}-{vintage}"
    home: bool = False  # created (its cap credited) in this market; other markets only hold it


@dataclass(frozen=True)
class Jurisdiction:
    """A named district-level jurisdiction without a GB/T 2260 code of its own (e.g. 北京经济技术开发区): ``code`` is
    ours — the province's two digits and four capitals (``11ETDA``), never a GB/T 2260 code — stable across years."""

    code: str
    name_zh: str
    name_en: str
    province: str
    level: str = "district"


@dataclass(frozen=True)
class PackEntry:
    kind: str
    sector: str  # a sector code or "*"
    years: tuple[int, ...]
    pack: str
    mechanism: str = ""  # allocation entries: the mechanism module's name


@dataclass(frozen=True)
class Market:
    id: str
    name_zh: str
    name_en: str
    calendar: str
    jurisdiction_levels: tuple[str, ...]
    account_kinds: tuple[str, ...]
    instruments: tuple[Instrument, ...]
    sectors: tuple[Sector, ...]  # in the file's order
    packs: tuple[PackEntry, ...]
    path: Path
    sha256: str = ""
    jurisdictions: tuple[Jurisdiction, ...] = ()

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh

    @property
    def pilot(self) -> bool:
        """A market without the national level in its ``jurisdiction_levels`` (a pilot such as Beijing): its provincial
        authority decides what the national authority decides in the national market (e.g. paid allocation)."""
        return "national" not in self.jurisdiction_levels

    @property
    def sector_codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.sectors)

    def sector(self, code: str) -> Sector:
        for s in self.sectors:
            if s.code == code:
                return s
        raise PackError(f"market {self.id!r} has no sector {code!r}")

    def sector_by_industry(self, industry_zh: str) -> Sector | None:
        """The sector of an industry name of the official disclosures (发电 → power), or None."""
        return next((s for s in self.sectors if s.industry_zh and s.industry_zh == industry_zh), None)

    def entry(self, kind: str, sector: str, year: int) -> PackEntry | None:
        """The table entry for (kind, sector, year): the sector's own, else the market-wide ("*") one."""
        for wanted in (sector, ANY_SECTOR):
            for e in self.packs:
                if e.kind == kind and e.sector == wanted and year in e.years:
                    return e
        return None

    def find_pack_id(self, kind: str, sector: str, year: int) -> str | None:
        e = self.entry(kind, sector, year)
        return e.pack if e else None

    def pack_id(self, kind: str, sector: str, year: int) -> str:
        """The id of the pack of ``kind`` that applies to ``sector`` in ``year``; PackError if none."""
        pid = self.find_pack_id(kind, sector, year)
        if pid is None:
            raise PackError(f"market {self.id!r} names no {kind} pack for sector {sector!r} in {year}")
        return pid

    def mechanism(self, sector: str, year: int) -> str:
        """The allocation mechanism of ``sector`` in ``year`` (e.g. ``benchmark_power``); PackError if none."""
        e = self.entry("allocation", sector, year)
        if e is None or not e.mechanism:
            raise PackError(f"market {self.id!r} names no allocation mechanism for sector {sector!r} in {year}")
        return e.mechanism

    def years(self, kind: str) -> list[int]:
        return sorted({y for e in self.packs if e.kind == kind for y in e.years})


def market_path(market_id: str, roots: tuple[Path, ...] | None = None) -> Path | None:
    for root in roots if roots is not None else pack_roots():
        path = root / market_id / MARKET_FILE
        if "/" not in market_id and market_id not in ("", ".", "..") and path.is_file():
            return path
    return None


def _req(node: dict[str, Any], key: str, where: str, path: Path) -> Any:
    if key not in node:
        raise PackError(f"{path}: {where}{key}: missing")
    return node[key]


def parse_market(data: dict[str, Any], path: Path, sha256: str = "") -> Market:
    """A :class:`Market` from the parsed TOML of ``path``; PackError on a missing key."""
    m = _req(data, "market", "", path)
    sectors = tuple(Sector(code=_req(s, "code", "sectors.", path), name_zh=_req(s, "name_zh", "sectors.", path),
                           name_en=_req(s, "name_en", "sectors.", path), industry_zh=s.get("industry_zh", ""))
                    for s in data.get("sectors", []))
    instruments = tuple(Instrument(code=_req(i, "code", "instruments.", path), name_zh=_req(i, "name_zh", "instruments.", path),
                                   name_en=_req(i, "name_en", "instruments.", path), unit_type=_req(i, "unit_type", "instruments.", path),
                                   home=bool(i.get("home", False)))
                        for i in data.get("instruments", []))
    entries = tuple(PackEntry(kind=_req(e, "kind", "packs.", path), sector=_req(e, "sector", "packs.", path),
                              years=tuple(_req(e, "years", "packs.", path)), pack=_req(e, "pack", "packs.", path),
                              mechanism=e.get("mechanism", ""))
                    for e in data.get("packs", []))
    jurisdictions = tuple(Jurisdiction(code=_req(j, "code", "jurisdictions.", path), name_zh=_req(j, "name_zh", "jurisdictions.", path),
                                       name_en=_req(j, "name_en", "jurisdictions.", path), province=_req(j, "province", "jurisdictions.", path),
                                       level=j.get("level", "district"))
                          for j in data.get("jurisdictions", []))
    for j in jurisdictions:
        if not re.fullmatch(r"[0-9]{2}[A-Z]{4}", j.code) or j.code[:2] != j.province:
            raise PackError(f"{path}: jurisdictions.code {j.code!r} must be the province's two digits and four capitals")
    return Market(
        id=_req(m, "id", "market.", path), name_zh=_req(m, "name_zh", "market.", path), name_en=_req(m, "name_en", "market.", path),
        calendar=_req(m, "calendar", "market.", path), jurisdiction_levels=tuple(m.get("jurisdiction_levels", ())),
        account_kinds=tuple(m.get("account_kinds", ())), instruments=instruments, sectors=sectors, packs=entries, path=path, sha256=sha256,
        jurisdictions=jurisdictions,
    )


@lru_cache(maxsize=None)
def _load_market(market_id: str, roots: tuple[Path, ...]) -> Market:
    path = market_path(market_id, roots)
    if path is None:
        raise PackError(f"no market {market_id!r} (looked for <pack folder>/{market_id}/{MARKET_FILE})")
    data, sha256 = read_toml(path)
    market = parse_market(data, path, sha256)
    if market.id != market_id:
        raise PackError(f"{path}: [market].id is {market.id!r}, expected {market_id!r}")
    return market


def load_market(market_id: str) -> Market:
    """The market of ``<pack folder>/<market_id>/market.toml`` (first pack folder that has it)."""
    return _load_market(market_id, tuple(pack_roots()))


load_market.cache_clear = _load_market.cache_clear  # type: ignore[attr-defined]


def is_pilot(market_id: str) -> bool:
    """Whether ``market_id`` is a pilot market (:attr:`Market.pilot`); an unknown market is not."""
    try:
        return load_market(market_id).pilot
    except PackError:
        return False


def market_ids() -> list[str]:
    """Every market id (a folder with a ``market.toml``) in the pack folders."""
    return sorted({p.parent.name for root in pack_roots() if root.is_dir() for p in root.glob(f"*/{MARKET_FILE}")})


def named_jurisdictions() -> dict[str, Jurisdiction]:
    """Every market's named jurisdictions (``[[jurisdictions]]``) by code."""
    return {j.code: j for m in markets() for j in m.jurisdictions}


def markets() -> list[Market]:
    """Every market, by id."""
    return [load_market(mid) for mid in market_ids()]


def sector_name(market: str | Market, code: str, lang: str = "zh") -> str:
    """The zh (default) or en name of sector ``code`` in ``market``; PackError for an unknown sector."""
    m = market if isinstance(market, Market) else load_market(market)
    return m.sector(code).name(lang)


def market_instruments() -> dict[str, frozenset[str]]:
    """market id → the instrument codes its accounts may hold, from every market's ``[[instruments]]``."""
    return {m.id: frozenset(i.code for i in m.instruments) for m in markets()}


def instrument_home() -> dict[str, str]:
    """instrument code → the market it is created in (``home = true``); PackError if two markets claim one."""
    out: dict[str, str] = {}
    for m in markets():
        for i in m.instruments:
            if i.home:
                if i.code in out and out[i.code] != m.id:
                    raise PackError(f"instrument {i.code} has two home markets: {out[i.code]}, {m.id}")
                out[i.code] = m.id
    return out


def primary_market() -> str:
    """The id of the market whose ``market.toml`` says ``primary = true`` (the national market as shipped): the
    market a service acts in when it is not told. PackError unless exactly one shipped market is primary."""
    from .files import PACK_DIR

    found = sorted(p.parent.name for p in PACK_DIR.glob(f"*/{MARKET_FILE}") if read_toml(p)[0].get("market", {}).get("primary") is True)
    if len(found) != 1:
        raise PackError(f"expected one primary market, found {found}")
    return found[0]


#: The primary market's id, read once from the shipped ``market.toml`` files (see :func:`primary_market`).
PRIMARY_MARKET = primary_market()
