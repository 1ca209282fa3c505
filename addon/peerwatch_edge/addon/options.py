"""The add-on's options (`/data/options.json`, validated by the Supervisor) → an `EdgeConfig`.

The options mirror the edge config in the Supervisor's schema language, which allows only two
levels of nesting: lists inside a camera (`detect`, `labels`) are comma-separated strings and the
registrar is two flat keys. Every error names the option as the user sees it.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from ..config import ConfigError, EdgeConfig, parse_config

_LOGGER = logging.getLogger(__name__)

API_PORT = 8778


def _split(value: Any, option: str) -> list[str]:  # noqa: ANN401
    if not isinstance(value, str):
        msg = f"{option}: must be a comma-separated list"
        raise ConfigError(msg)
    return [item.strip() for item in value.split(",") if item.strip()]


def _camera(option: Any, index: int) -> dict[str, Any]:  # noqa: ANN401
    if not isinstance(option, dict):
        msg = f"cameras[{index}]: must be a camera (id, source, ...)"
        raise ConfigError(msg)
    where = f"cameras[{option.get('id') or index}]"
    camera = {k: option[k] for k in ("id", "name", "source", "fps") if k in option}
    if "detect" in option:
        camera["detect"] = _split(option["detect"], f"{where}.detect")
    objects: dict[str, Any] = {}
    if "labels" in option:
        objects["labels"] = _split(option["labels"], f"{where}.labels")
    if "min_score" in option:
        objects["min_score"] = option["min_score"]
    if objects:
        camera["objects"] = objects
    return camera


def options_to_raw(options: Any, data_dir: Path, models_dir: Path, api_port: int) -> dict[str, Any]:  # noqa: ANN401
    """Translate the options into the edge's YAML config shape."""
    if not isinstance(options, dict):
        msg = "options: must be a JSON object"
        raise ConfigError(msg)
    cameras = options.get("cameras") or []
    if not isinstance(cameras, list):
        msg = "cameras: must be a list of cameras"
        raise ConfigError(msg)
    raw: dict[str, Any] = {
        "data_dir": str(data_dir),
        "models_dir": str(models_dir),
        "api": {"host": "0.0.0.0", "port": api_port},  # noqa: S104 (the add-on's network)
        "cameras": [_camera(camera, index) for index, camera in enumerate(cameras)],
        "ice_servers": options.get("ice_servers") or [],
        "retention": {
            key: options[f"retention_{key}"]
            for key in ("days", "max_gb")
            if f"retention_{key}" in options
        },
    }
    if options.get("registrar_url"):
        raw["registrar"] = {"url": options["registrar_url"]}
        if options.get("registrar_key"):
            raw["registrar"]["key"] = options["registrar_key"]
    return raw


def load_options(
    path: Path, data_dir: Path, models_dir: Path, api_port: int = API_PORT
) -> tuple[EdgeConfig, dict[str, Any]]:
    """Read `options.json` and return the validated edge config and the raw options."""
    try:
        options = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        msg = f"cannot read {path}: {err.strerror or err}"
        raise ConfigError(msg) from None
    except ValueError as err:
        msg = f"{path}: not valid JSON ({err})"
        raise ConfigError(msg) from None
    raw = options_to_raw(options, data_dir, models_dir, api_port)
    return parse_config(raw, data_dir), options


def place_snapshots(data_dir: Path, media_dir: Path, in_media: bool) -> None:
    """With `media_snapshots`, keep event pictures in `/media/peerwatch` (HA's media browser).

    `data_dir/snapshots` becomes a link to `media_dir/snapshots`; pictures already taken move
    there. Switched off again, the link goes and pictures are kept in `data_dir` from then on.
    """
    link, target = data_dir / "snapshots", media_dir / "snapshots"
    if not in_media:
        if link.is_symlink():
            link.unlink()
            _LOGGER.info("event pictures now kept in %s (older ones stay in %s)", link, target)
        return
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    target.mkdir(parents=True, exist_ok=True)
    if link.is_symlink():
        link.unlink()
    elif link.is_dir():
        for item in link.iterdir():
            shutil.move(item, target / item.name)
        link.rmdir()
    data_dir.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)
    _LOGGER.info("event pictures kept in %s", target)
