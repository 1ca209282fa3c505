"""Fixtures of the edge's tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.edge.remote_client import RegistrarClient
from tests.edge.remote_stack import Stack, make_stack, stop_stack


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Our registrar and an edge registered with it, for one test module."""
    made = make_stack(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
    yield made
    stop_stack(made)


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[aiohttp.ClientSession]:
    """The stack's edge API, with its token."""
    async with aiohttp.ClientSession(stack.edge.url, headers=stack.edge.auth) as session:
        yield session


@pytest.fixture
async def registrar(stack: Stack) -> AsyncIterator[RegistrarClient]:
    """A client of the stack's registrar."""
    async with RegistrarClient(stack.registrar_url) as client:
        yield client


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A 256 KiB tmpfs when we may mount one (root); else a 150 KB RLIMIT_FSIZE for the writer,
    which makes writes past it fail with EFBIG as a full disk fails them with ENOSPC."""
    mount = tmp_path / "small"
    mount.mkdir()
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    try:
        yield mount / "data", 0 if mounted else 150_000
    finally:
        if mounted:
            with contextlib.suppress(OSError):
                subprocess.run(["umount", "--lazy", str(mount)], check=True)
