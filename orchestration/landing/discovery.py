"""Which files in the landing folder are extracts no profile reads.

Every regular file below the landing folder is an extract someone dropped there, unless it is
hidden (a name starting with '.') or listed in a ``.landingignore`` file in its folder (one glob
pattern a line, matched against names in that folder; the demo city lists its answer key,
``truth.json``). A file no profile's ``files`` pattern matches is reported in every run's
summary and alerted once: a file left there silently is a city's data that never arrives.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path

IGNORE_FILE = ".landingignore"


def _ignored_patterns(folder: Path, cache: dict[Path, list[str]]) -> list[str]:
    if folder not in cache:
        listing = folder / IGNORE_FILE
        lines = listing.read_text(encoding="utf-8", errors="replace").splitlines() if listing.is_file() else []
        cache[folder] = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return cache[folder]


def dropped_files(landing_dir: Path) -> list[Path]:
    """Every regular file an operator dropped in the landing folder (hidden and ignored ones left out)."""
    if not landing_dir.is_dir():
        return []
    cache: dict[Path, list[str]] = {}
    found = []
    for path in sorted(landing_dir.rglob("*")):
        rel = path.relative_to(landing_dir)
        if any(part.startswith(".") for part in rel.parts) or path.is_symlink() or not path.is_file():
            continue
        if any(fnmatch.fnmatch(path.name, p) for p in _ignored_patterns(path.parent, cache)):
            continue
        found.append(path)
    return found


def unmatched_files(landing_dir: Path, matched: Iterable[Path]) -> list[Path]:
    """Files in the landing folder that no profile's pattern matches."""
    taken = {Path(p).resolve() for p in matched}
    return [p for p in dropped_files(landing_dir) if p.resolve() not in taken]
