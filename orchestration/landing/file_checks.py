"""Which paths landing reads, and how it names them: a regular file inside the landing folder,
never a link, a device or a pipe; a refused file's batch id without reading what it must not."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from orchestration.landing import csvfile
from orchestration.landing.errors import LandingError


def refused_batch_id(path: Path, prefix: str) -> str:
    """``<prefix>:<content hash>`` of a file kept out; a link, a device or a pipe is never read
    (a link to /dev/zero would never end): its path is hashed instead."""
    path = Path(path)
    try:
        regular = not path.is_symlink() and stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        regular = False
    if regular:
        return f"{prefix}:{csvfile.file_sha256(path)[:16]}"
    return f"{prefix}:path-{hashlib.sha256(str(path).encode()).hexdigest()[:11]}"


def shown_name(path: Path, landing_dir: Path | None) -> str:
    """The file as messages and lineage name it: relative to the landing folder when inside it."""
    path = Path(path)
    if landing_dir and path.is_relative_to(landing_dir):
        return str(path.relative_to(landing_dir))
    return path.name


def check_regular_file(path: Path, landing_dir: Path | None, shown: str) -> None:
    """Refuse anything but a regular file inside the landing folder: a symbolic link (wherever it
    points), a path that leaves the folder, a device or a pipe. Nothing of the file is read."""
    path = Path(path)
    if landing_dir is not None:
        folder = Path(landing_dir).absolute()
        absolute = path.absolute()
        if not absolute.is_relative_to(folder) or ".." in absolute.relative_to(folder).parts:
            raise LandingError(f"{path}: refused, not inside the landing folder {folder}")
        # every folder between the landing folder and the file, and the file itself
        part = folder
        for name in absolute.relative_to(folder).parts:
            part = part / name
            if part.is_symlink():
                raise LandingError(
                    f"{shown}: refused, {part.relative_to(folder)} is a symbolic link (to {os.readlink(part)}); "
                    f"landing reads only regular files inside the landing folder {folder}"
                )
    elif path.is_symlink():
        raise LandingError(
            f"{shown}: refused, a symbolic link (to {os.readlink(path)}); landing reads only regular files"
        )
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        raise LandingError(f"{shown}: refused, cannot be read: {exc.strerror}") from exc
    if not stat.S_ISREG(mode):
        raise LandingError(f"{shown}: refused, not a regular file; landing reads only regular files")
