"""The serving swap's primitives (orchestration/serving/atomic.py): a reader sees the old file or the
new one, never a mix, and one publisher at a time holds a serving folder."""

from __future__ import annotations

import fcntl
import os

import pytest

from orchestration.serving.atomic import fsync_dir, publish_lock, replace_atomically

pytestmark = pytest.mark.pure


def test_a_file_is_replaced_whole_and_an_open_reader_keeps_the_old_one(tmp_path):
    target, new = tmp_path / "marts.duckdb", tmp_path / ".marts.duckdb.new"
    target.write_text("old refresh")
    new.write_text("new refresh")
    with open(target) as reader:
        replace_atomically(new, target)
        assert reader.read() == "old refresh"
    assert target.read_text() == "new refresh" and not new.exists()


def test_a_symlink_to_a_folder_is_swapped_and_the_old_folder_kept(tmp_path):
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    (tmp_path / "v1" / "a.parquet").write_text("1")
    (tmp_path / "v2" / "a.parquet").write_text("2")
    current, staged = tmp_path / "current", tmp_path / ".current.new"
    current.symlink_to("v1")
    staged.symlink_to("v2")
    replace_atomically(staged, current)
    assert os.readlink(current) == "v2" and (current / "a.parquet").read_text() == "2"
    assert (tmp_path / "v1" / "a.parquet").read_text() == "1" and not staged.is_symlink()


def test_one_publisher_at_a_time_holds_a_serving_folder(tmp_path):
    serving = tmp_path / "serving" / "city"
    with publish_lock(serving):
        assert (serving / ".publish.lock").exists()
        with open(serving / ".publish.lock", "w") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(serving / ".publish.lock", "w") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released on leaving the block
        fcntl.flock(other, fcntl.LOCK_UN)


def test_the_lock_is_released_when_the_publish_fails(tmp_path):
    with pytest.raises(RuntimeError), publish_lock(tmp_path):
        raise RuntimeError("the copy failed")
    with open(tmp_path / ".publish.lock", "w") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_a_folder_sync_needs_a_folder(tmp_path):
    fsync_dir(tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError):
        fsync_dir(tmp_path / "f")
