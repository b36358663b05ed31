"""Load and validate rule packs (``rules/packs/<market>/<sector>-<period>.toml``).

A pack is data: benchmarks, factors, ratios, deadlines and rounding for one market, sector and
period, each value with its source in a comment. Numeric values are TOML *strings* so that they are
parsed as exact :class:`~decimal.Decimal`; a float in a pack is refused.

Errors: :class:`PackError` (unknown pack id, missing key, a number written as a float).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

PACK_DIR = Path(__file__).resolve().parent / "packs"


class PackError(ValueError):
    pass


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
def load_pack(pack_id: str) -> Pack:
    """Load ``national/power-2023-2024`` from ``rules/packs/national/power-2023-2024.toml``.

    Raises :class:`PackError` if the file does not exist, its ``[pack].id`` differs from the file
    name, or any number is a float.
    """
    path = PACK_DIR / f"{pack_id}.toml"
    if not path.is_file() or PACK_DIR not in path.resolve().parents:
        raise PackError(f"no rule pack {pack_id!r} (looked for {path})")
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    declared = data.get("pack", {}).get("id")
    if declared != pack_id:
        raise PackError(f"{path}: [pack].id is {declared!r}, expected {pack_id!r}")
    _check_no_floats(data, "", pack_id)
    return Pack(id=pack_id, data=data, path=path)


def available_packs() -> list[str]:
    return sorted(str(p.relative_to(PACK_DIR).with_suffix("")) for p in PACK_DIR.rglob("*.toml"))


def pack_for(market: str, sector: str, year: int, *, kind: str = "allocation") -> Pack:
    """The ``kind`` pack (``allocation`` by default, or ``accounting``) of ``market``/``sector`` whose
    years include ``year``; PackError if none or several."""
    found = [load_pack(pid) for pid in available_packs() if pid.startswith(f"{market}/{sector}-")]
    found = [p for p in found if p.covers(year) and p.kind == kind]
    if len(found) != 1:
        raise PackError(f"expected one {market}/{sector} {kind} pack for {year}, found {[p.id for p in found]}")
    return found[0]
