"""The edge's YAML configuration (DESIGN.md), validated with voluptuous.

Every error names the key and the camera, e.g. `cameras[front_door].fps: value must be at most 30`.
Relative paths are resolved against the config file's folder. The models folder is, in order:
the `models_dir` key, the `PEERWATCH_MODELS_DIR` environment variable, `./models`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import voluptuous as vol
import yaml

MODELS_ENV: Final = "PEERWATCH_MODELS_DIR"
DETECTORS: Final = ("object", "face", "fall")
DEFAULT_MIN_SCORE: Final = 0.6
"""The lowest score of an object event when neither its label's default nor the camera sets one."""
LABEL_MIN_SCORES: Final[Mapping[str, float]] = MappingProxyType({"person": 0.6})
"""Per-label defaults of `min_score`, which a camera's `min_score` overrides. Person 0.6: the
object model sees people in empty walls and coats at up to 0.56, and real people (Ambianic's
test images, mirrored too, thermal included) at 0.64 and more."""

type SourceType = Literal["rtsp", "mjpeg", "snapshot", "file"]
type Point = tuple[float, float]


class ConfigError(ValueError):
    """The configuration is invalid; the message names every bad key."""


@dataclass(slots=True, frozen=True)
class MotionConfig:
    """Motion gate: detectors run when the scene changes, and every `interval` s anyway."""

    sensitivity: float = 0.5
    interval: float = 10.0


@dataclass(slots=True, frozen=True)
class RecordConfig:
    """Event clips: the compressed stream from `pre_roll` s before an event to `post_roll` after,
    at most `max_length` s long (a visit that lasts hours keeps its first minutes)."""

    enabled: bool = True
    pre_roll: float = 5.0
    post_roll: float = 5.0
    max_length: float = 300.0


@dataclass(slots=True, frozen=True)
class ObjectsConfig:
    """Which COCO labels make events, and the minimum score for each."""

    labels: tuple[str, ...] = ("person",)
    min_score: float = DEFAULT_MIN_SCORE
    """For labels without a score of their own."""
    min_scores: dict[str, float] = field(default_factory=lambda: dict(LABEL_MIN_SCORES))
    """Per label: `LABEL_MIN_SCORES` with the camera's own, none if it gives one score for all."""

    def threshold(self, label: str) -> float:
        """Return the minimum score for `label`."""
        return self.min_scores.get(label, self.min_score)


@dataclass(slots=True, frozen=True)
class CameraConfig:
    """One camera: where its frames come from and what to detect in them."""

    id: str
    name: str
    source: str
    source_type: SourceType
    fps: float = 5.0
    loop: bool = True
    realtime: bool = True
    detect: tuple[str, ...] = ("object",)
    objects: ObjectsConfig = field(default_factory=ObjectsConfig)
    zones: dict[str, tuple[Point, ...]] = field(default_factory=dict)
    min_area: float = 0.0
    motion: MotionConfig = field(default_factory=MotionConfig)
    record: RecordConfig = field(default_factory=RecordConfig)
    end_after: float = 5.0
    confirm_frames: int = 2
    """Consecutive analysed frames an object must be seen in before it is an event."""
    stall_timeout: float = 10.0


@dataclass(slots=True, frozen=True)
class ApiConfig:
    """Where the local API listens."""

    host: str = "0.0.0.0"  # noqa: S104
    port: int = 8778


@dataclass(slots=True, frozen=True)
class RegistrarConfig:
    """The signaling server for remote access."""

    url: str
    key: str = "peerjs"


@dataclass(slots=True, frozen=True)
class RetentionConfig:
    """How long and how much the event store keeps."""

    days: float = 14.0
    max_gb: float = 5.0

    @property
    def max_bytes(self) -> int:
        """The size cap in bytes (database and pictures)."""
        return int(self.max_gb * 1024**3)


@dataclass(slots=True, frozen=True)
class EdgeConfig:
    """The whole edge configuration."""

    data_dir: Path
    models_dir: Path
    cameras: tuple[CameraConfig, ...] = ()
    api: ApiConfig = field(default_factory=ApiConfig)
    registrar: RegistrarConfig | None = None
    ice_servers: tuple[dict[str, Any], ...] = ()
    retention: RetentionConfig = field(default_factory=RetentionConfig)


_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _camera_id(value: Any) -> str:  # noqa: ANN401
    if not isinstance(value, str) or not _ID.match(value):
        msg = "must be lowercase letters, digits, '_' or '-' (at most 64)"
        raise vol.Invalid(msg)
    return value


def _point(value: Any) -> Point:  # noqa: ANN401
    if not isinstance(value, list | tuple) or len(value) != 2:
        msg = "a point must be [x, y]"
        raise vol.Invalid(msg)
    x, y = (vol.All(vol.Coerce(float), vol.Range(0.0, 1.0))(v) for v in value)
    return (x, y)


def _polygon(value: Any) -> tuple[Point, ...]:  # noqa: ANN401
    if not isinstance(value, list) or len(value) < 3:
        msg = "a zone is a list of at least 3 [x, y] points (0..1)"
        raise vol.Invalid(msg)
    return tuple(_point(v) for v in value)


def _min_score(value: Any) -> float | dict[str, float]:  # noqa: ANN401
    score = vol.All(vol.Coerce(float), vol.Range(0.0, 1.0))
    if isinstance(value, dict):
        return vol.Schema({str: score})(value)
    return score(value)  # type: ignore[no-any-return]


def _source(value: Any) -> str:  # noqa: ANN401
    if not isinstance(value, str) or not value.strip():
        msg = "must be an rtsp://, http(s):// URL or a file path"
        raise vol.Invalid(msg)
    scheme = urlsplit(value).scheme
    if scheme and len(scheme) > 1 and scheme not in ("rtsp", "rtsps", "http", "https", "file"):
        msg = f"unsupported scheme {scheme!r} (rtsp, rtsps, http, https or a file path)"
        raise vol.Invalid(msg)
    return value.strip()


_FRACTION = vol.All(vol.Coerce(float), vol.Range(0.0, 1.0))
_POSITIVE = vol.All(vol.Coerce(float), vol.Range(min=0.0, min_included=False))

CAMERA_SCHEMA: Final = vol.Schema(
    {
        vol.Required("id"): _camera_id,
        vol.Optional("name"): vol.All(str, vol.Length(min=1, max=100)),
        vol.Required("source"): _source,
        vol.Optional("source_type"): vol.In(("rtsp", "mjpeg", "snapshot", "file")),
        vol.Optional("fps", default=5.0): vol.All(vol.Coerce(float), vol.Range(0.1, 30.0)),
        vol.Optional("loop", default=True): bool,
        vol.Optional("realtime", default=True): bool,
        vol.Optional("detect", default=["object"]): vol.All(
            [vol.In(DETECTORS)], vol.Length(min=1), vol.Unique()
        ),
        vol.Optional("objects", default={}): {
            vol.Optional("labels", default=["person"]): vol.All([str], vol.Length(min=1)),
            vol.Optional("min_score", default={}): _min_score,
        },
        vol.Optional("zones", default={}): {str: _polygon},
        vol.Optional("min_area", default=0.0): _FRACTION,
        vol.Optional("motion", default={}): {
            vol.Optional("sensitivity", default=0.5): _FRACTION,
            vol.Optional("interval", default=10.0): _POSITIVE,
        },
        vol.Optional("record", default={}): {
            vol.Optional("enabled", default=True): bool,
            vol.Optional("pre_roll", default=5.0): vol.All(vol.Coerce(float), vol.Range(0, 60)),
            vol.Optional("post_roll", default=5.0): vol.All(vol.Coerce(float), vol.Range(0, 60)),
            vol.Optional("max_length", default=300.0): vol.All(
                vol.Coerce(float), vol.Range(10, 86400)
            ),
        },
        vol.Optional("end_after", default=5.0): vol.All(vol.Coerce(float), vol.Range(0.5, 600)),
        vol.Optional("confirm_frames", default=2): vol.All(int, vol.Range(1, 30)),
        vol.Optional("stall_timeout", default=10.0): vol.All(
            vol.Coerce(float), vol.Range(1.0, 600)
        ),
    }
)

EDGE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("data_dir", default="./data"): vol.All(str, vol.Length(min=1)),
        vol.Optional("models_dir"): vol.All(str, vol.Length(min=1)),
        vol.Optional("api", default={}): {
            vol.Optional("host", default="0.0.0.0"): str,  # noqa: S104
            vol.Optional("port", default=8778): vol.All(int, vol.Range(1, 65535)),
        },
        vol.Optional("registrar"): vol.Any(
            None,
            {
                vol.Required("url"): vol.All(str, vol.Match(r"^(https?|wss?)://", msg="not a URL")),
                vol.Optional("key", default="peerjs"): str,
            },
        ),
        vol.Optional("ice_servers", default=[]): [
            {
                vol.Required("urls"): vol.Any(str, [str]),
                vol.Optional("username"): str,
                vol.Optional("credential"): str,
            }
        ],
        vol.Optional("retention", default={}): {
            vol.Optional("days", default=14.0): _POSITIVE,
            vol.Optional("max_gb", default=5.0): _POSITIVE,
        },
        vol.Optional("cameras", default=[]): list,
    }
)


def _where(path: list[Any], raw: Any, prefix: str = "") -> str:  # noqa: ANN401
    """Render a voluptuous error path as `cameras[front_door].objects.min_score`."""
    text = prefix
    node = raw
    for key in path:
        if isinstance(key, int):
            node = node[key] if isinstance(node, list) and key < len(node) else None
            ident = node.get("id") if isinstance(node, dict) else None
            text += f"[{ident if isinstance(ident, str) and ident else key}]"
        else:
            text += f".{key}" if text else str(key)
            node = node.get(key) if isinstance(node, dict) else None
    return text or "config"


def _errors(err: vol.Invalid, raw: Any, prefix: str = "") -> list[str]:  # noqa: ANN401
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    return [f"{_where(e.path, raw, prefix)}: {e.msg}" for e in errors]


def _source_type(source: str, explicit: str | None) -> SourceType:
    if explicit is not None:
        return explicit  # type: ignore[return-value]
    scheme = urlsplit(source).scheme
    if scheme in ("rtsp", "rtsps"):
        return "rtsp"
    if scheme in ("http", "https"):
        path = urlsplit(source).path.lower()
        return "snapshot" if path.endswith((".jpg", ".jpeg", ".png", "/snapshot")) else "mjpeg"
    return "file"


def _camera(data: dict[str, Any], base: Path) -> CameraConfig:
    source_type = _source_type(data["source"], data.get("source_type"))
    source = data["source"]
    if source_type == "file":
        path = Path(source.removeprefix("file://")).expanduser()
        source = str(path if path.is_absolute() else base / path)
    scores = data["objects"]["min_score"]
    return CameraConfig(
        id=data["id"],
        name=data.get("name", data["id"]),
        source=source,
        source_type=source_type,
        fps=data["fps"],
        loop=data["loop"],
        realtime=data["realtime"],
        detect=tuple(data["detect"]),
        objects=ObjectsConfig(
            labels=tuple(data["objects"]["labels"]),
            min_score=scores if isinstance(scores, float) else DEFAULT_MIN_SCORE,
            min_scores={**LABEL_MIN_SCORES, **scores} if isinstance(scores, dict) else {},
        ),
        zones=dict(data["zones"]),
        min_area=data["min_area"],
        motion=MotionConfig(**data["motion"]),
        record=RecordConfig(**data["record"]),
        end_after=data["end_after"],
        confirm_frames=data["confirm_frames"],
        stall_timeout=data["stall_timeout"],
    )


def parse_config(raw: Any, base_dir: Path | None = None) -> EdgeConfig:  # noqa: ANN401
    """Validate a config mapping; raise `ConfigError` naming every bad key."""
    base = (base_dir or Path.cwd()).resolve()
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        msg = "config: must be a mapping of keys (data_dir, models_dir, cameras, ...)"
        raise ConfigError(msg)
    try:
        data = EDGE_SCHEMA(raw)
    except vol.Invalid as err:
        raise ConfigError("\n".join(_errors(err, raw))) from None
    problems: list[str] = []
    cameras: list[CameraConfig] = []
    seen: set[str] = set()
    for index, item in enumerate(data["cameras"]):
        raw_camera = raw["cameras"][index]
        ident = raw_camera.get("id") if isinstance(raw_camera, dict) else None
        where = f"cameras[{ident if isinstance(ident, str) and ident else index}]"
        try:
            camera = _camera(CAMERA_SCHEMA(item), base)
        except vol.Invalid as err:
            problems += _errors(err, raw_camera, where)
            continue
        if camera.id in seen:
            problems.append(f"{where}.id: duplicate camera id {camera.id!r}")
        seen.add(camera.id)
        cameras.append(camera)
    if problems:
        raise ConfigError("\n".join(problems))
    models = data.get("models_dir") or os.environ.get(MODELS_ENV) or "./models"
    registrar = data.get("registrar")
    return EdgeConfig(
        data_dir=(base / Path(data["data_dir"]).expanduser()).resolve(),
        models_dir=(base / Path(models).expanduser()).resolve(),
        cameras=tuple(cameras),
        api=ApiConfig(**data["api"]),
        registrar=RegistrarConfig(**registrar) if registrar else None,
        ice_servers=tuple(data["ice_servers"]),
        retention=RetentionConfig(**data["retention"]),
    )


def load_config(path: Path) -> EdgeConfig:
    """Read and validate a YAML (or JSON, e.g. the add-on's options.json) config file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        msg = f"cannot read config {path}: {err.strerror or err}"
        raise ConfigError(msg) from None
    except yaml.YAMLError as err:
        msg = f"{path}: invalid YAML: {err}"
        raise ConfigError(msg) from None
    return parse_config(raw, path.parent)
