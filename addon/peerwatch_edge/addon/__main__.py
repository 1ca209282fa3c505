"""`python -m peerwatch_edge.addon`: the Home Assistant add-on's run entry.

Reads `/data/options.json`, runs the edge with its API and ingress panel, and announces the API
to Home Assistant through Supervisor discovery. A bad option is logged by name; exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from ..api import ApiOptions
from ..api.auth import INGRESS_PROXY, load_token
from ..config import ConfigError, EdgeConfig
from ..detectors import ModelError
from ..service import run
from .discovery import announce
from .options import API_PORT, load_options, place_snapshots

_LOGGER = logging.getLogger("peerwatch_edge.addon")
LOG_LEVELS = {"debug", "info", "warning", "error"}


def parser() -> argparse.ArgumentParser:
    """Paths and ports; the defaults are the add-on container's."""
    env = os.environ.get
    cli = argparse.ArgumentParser(prog="peerwatch-addon", description=__doc__)
    cli.add_argument("--options", type=Path, default=Path("/data/options.json"))
    cli.add_argument("--data-dir", type=Path, default=Path("/data/edge"))
    cli.add_argument(
        "--models-dir",
        type=Path,
        default=Path(env("PEERWATCH_MODELS_DIR", "/opt/peerwatch/models")),
    )
    cli.add_argument(
        "--pwa-dir", type=Path, default=Path(env("PEERWATCH_PWA_DIR", "/opt/peerwatch/pwa"))
    )
    cli.add_argument("--media-dir", type=Path, default=Path("/media/peerwatch"))
    cli.add_argument("--api-port", type=int, default=API_PORT)
    cli.add_argument("--ingress-port", type=int, default=8099)
    cli.add_argument("--ingress-allow", default=",".join(INGRESS_PROXY))
    cli.add_argument(
        "--supervisor-url", default=env("PEERWATCH_SUPERVISOR_URL", "http://supervisor")
    )
    return cli


async def serve(config: EdgeConfig, api: ApiOptions, supervisor_url: str) -> None:
    """Run the edge; announce it meanwhile (when the Supervisor gave us a token)."""
    supervisor_token = os.environ.get("SUPERVISOR_TOKEN")
    discovery: asyncio.Task[str] | None = None
    if supervisor_token:
        discovery = asyncio.create_task(
            announce(
                supervisor_url,
                supervisor_token,
                host=socket.gethostname(),
                port=config.api.port,
                api_token=await asyncio.to_thread(load_token, config.data_dir),
            ),
            name="discovery",
        )
    else:
        _LOGGER.warning("SUPERVISOR_TOKEN is not set: not announcing to Home Assistant")
    try:
        await run(config, api)
    finally:
        if discovery is not None:
            discovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await discovery


def main(argv: Sequence[str] | None = None) -> int:
    """Run the add-on; return the exit status."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config, options = load_options(args.options, args.data_dir, args.models_dir, args.api_port)
    except ConfigError as err:
        for line in str(err).splitlines():
            _LOGGER.error("invalid add-on option %s", line)
        return 2
    level = str(options.get("log_level", "info")).lower()
    if level not in LOG_LEVELS:
        _LOGGER.error("invalid add-on option log_level: must be one of %s", sorted(LOG_LEVELS))
        return 2
    logging.getLogger().setLevel(level.upper())
    try:
        place_snapshots(args.data_dir, args.media_dir, options.get("media_snapshots") is True)
    except OSError as err:
        _LOGGER.error("media_snapshots: cannot use %s: %s", args.media_dir, err)
        return 1
    api = ApiOptions(
        name="Peerwatch",
        ingress_port=args.ingress_port,
        ingress_allow=tuple(a.strip() for a in args.ingress_allow.split(",") if a.strip()),
        pwa_dir=args.pwa_dir,
    )
    _LOGGER.info("starting with %d cameras", len(config.cameras))
    try:
        asyncio.run(serve(config, api, args.supervisor_url))
    except ModelError as err:
        _LOGGER.error("model error: %s", err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
