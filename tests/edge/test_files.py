"""Durable writes under concurrency: threads writing one file never fail or leave a mix."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from peerwatch_edge.files import write_atomic


def test_concurrent_writes_of_one_file_all_succeed(tmp_path: Path) -> None:
    """A device registry save whose caller was cancelled goes on in its thread while the next
    save starts: both wrote the same temporary file, and one rename failed (a 500 on revoke)."""
    target = tmp_path / "devices.json"
    contents = [bytes([n]) * 200_000 for n in range(64)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda data: write_atomic(target, data, 0o600), contents))
    assert target.read_bytes() in contents
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["devices.json"]  # no temporary file left
