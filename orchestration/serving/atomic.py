"""Publishing files so a reader sees the old version or the new one, never a half-written one.

Everything is written beside its final place (same file system), flushed to disk, then renamed
over the old name in one step. POSIX rename is atomic: a reader that already opened the old file
keeps reading it (the old inode lives until it is closed); the next open gets the new one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def publish_lock(serving_dir: Path) -> Iterator[None]:
    """One publisher at a time per serving folder (two runs must not clean up each other's
    temporary files). The lock is released by the kernel if the process dies."""
    serving_dir.mkdir(parents=True, exist_ok=True)
    with open(serving_dir / ".publish.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(source: Path, target: Path) -> None:
    """Flush ``source`` and rename it over ``target`` (a file, or a symlink to a folder)."""
    if source.is_file() and not source.is_symlink():
        fsync_file(source)
    os.replace(source, target)
    fsync_dir(target.parent)
