#!/usr/bin/env python
"""Compile every gettext catalogue ``src/cets/**/locale/*/LC_MESSAGES/*.po`` to its ``.mo``.

GNU gettext (``msgfmt``) is not needed: the catalogues are compiled with ``polib``. The output is
deterministic (entries sorted by msgid, no timestamps added), so the ``.mo`` files can be
committed and a re-run on unchanged ``.po`` files changes nothing. Fuzzy and untranslated entries
are left out, as ``msgfmt`` does.

    python scripts/compilemessages.py            # compile
    python scripts/compilemessages.py --check    # exit 1 if a .mo is missing or out of date

Errors (a .po that does not parse, or a translation whose %-placeholders differ from its msgid)
are printed with the file and the msgid, and the script exits 2 without writing that file.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cets"
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[#0 +-]*\d*(?:\.\d+)?[sdifr%]")


def catalogues(src: Path = SRC) -> list[Path]:
    return sorted(p for p in src.rglob("*.po") if "locale" in p.parts and p.parent.name == "LC_MESSAGES")


def problems_of(po: polib.POFile) -> list[str]:
    out = []
    for e in po.translated_entries():
        if e.msgid_plural:
            continue
        want = sorted(PLACEHOLDER.findall(e.msgid))
        got = sorted(PLACEHOLDER.findall(e.msgstr))
        if want != got:
            out.append(f"placeholders differ: {e.msgid!r} has {want}, translation has {got}")
    return out


def compiled(po_path: Path) -> tuple[bytes | None, list[str]]:
    """The .mo bytes of one catalogue, or None and the problems found."""
    try:
        po = polib.pofile(str(po_path), wrapwidth=0)
    except (OSError, ValueError) as e:
        return None, [str(e)]
    problems = problems_of(po)
    if problems:
        return None, problems
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mo"
        po.save_as_mofile(str(out))
        return out.read_bytes(), []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only check that every .mo is up to date")
    args = ap.parse_args(argv)
    status = 0
    pos = catalogues()
    if not pos:
        print(f"no .po files under {SRC}", file=sys.stderr)
        return 0
    for po_path in pos:
        mo_path = po_path.with_suffix(".mo")
        rel = po_path.relative_to(ROOT)
        data, problems = compiled(po_path)
        if data is None:
            for p in problems:
                print(f"✗ {rel}: {p}", file=sys.stderr)
            status = 2
            continue
        current = mo_path.read_bytes() if mo_path.exists() else None
        if args.check:
            if current != data:
                print(f"✗ {mo_path.relative_to(ROOT)} is missing or out of date; run scripts/compilemessages.py", file=sys.stderr)
                status = max(status, 1)
            else:
                print(f"✓ {mo_path.relative_to(ROOT)}")
            continue
        if current != data:
            mo_path.write_bytes(data)
            print(f"✓ compiled {rel} → {mo_path.name} ({len(data):,} bytes)")
        else:
            print(f"✓ {mo_path.relative_to(ROOT)} up to date")
    return status


if __name__ == "__main__":
    sys.exit(main())
