"""What packs and markets both stand on: the pack folders, reading a TOML file, and the error they raise.
Pure (no Django). :mod:`cets.rules.packs` and :mod:`cets.rules.markets` import from here, never from each other
in both directions."""

from __future__ import annotations

import hashlib
import os
import tomllib
from pathlib import Path
from typing import Any

PACK_DIR = Path(__file__).resolve().parent / "packs"
PACK_DIRS_ENV = "CETS_PACK_DIRS"
MARKET_FILE = "market.toml"


class PackError(ValueError):
    pass


def pack_roots() -> list[Path]:
    """The folders packs are looked up in: :data:`PACK_DIR`, then each folder of ``$CETS_PACK_DIRS``."""
    extra = [Path(p).expanduser().resolve() for p in os.environ.get(PACK_DIRS_ENV, "").split(os.pathsep) if p.strip()]
    roots = [Path(PACK_DIR)]
    for root in extra:
        if root not in roots:
            roots.append(root)
    return roots


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed TOML of ``path`` and the hex SHA-256 of its bytes; PackError if it is not UTF-8 TOML."""
    raw = path.read_bytes()
    try:
        return tomllib.loads(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest()
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise PackError(f"{path}: not a valid UTF-8 TOML file: {e}") from None
