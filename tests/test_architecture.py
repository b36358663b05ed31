"""docs/ARCHITECTURE.md describes the code as it is (issue 12): every path it names exists, every
context of src/cets is on it, and its layer order is the import-linter contract's."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def test_every_path_named_exists():
    paths = set(re.findall(r"`(src/cets/[^`\s]+)`", DOC))
    assert len(paths) > 20
    missing = sorted(p for p in paths if "<" not in p and not (ROOT / p).exists())
    assert missing == []


def test_every_context_is_on_the_map():
    contexts = sorted(p.name for p in (ROOT / "src" / "cets").iterdir() if p.is_dir() and (p / "apps.py").exists() or (p / "run.py").exists())
    assert "registry" in contexts
    absent = [c for c in contexts if f"src/cets/{c}/" not in DOC]
    assert absent == []


def test_the_layers_are_the_import_contract():
    contract = next(c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"] if c["id"] == "layers")
    contexts = [layer.strip("()").removeprefix("cets.") for layer in contract["layers"] if ":" not in layer]
    table = re.findall(r"^\| (\d+) \| (?:`src/cets/(\w+)/`|(\w+)) \|", DOC, re.M)
    documented = [a or b for _, a, b in table]
    assert list(reversed(contexts)) == documented
