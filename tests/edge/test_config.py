"""The edge config: DESIGN.md's YAML validates; every error names the key and the camera."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerwatch_edge.config import MODELS_ENV, ConfigError, load_config, parse_config
from tests.support import REPO


def camera(**overrides: object) -> dict[str, object]:
    return {"id": "front_door", "source": "rtsp://user:pass@192.0.2.10/stream1", **overrides}


def test_design_example_parses(tmp_path: Path) -> None:
    raw = {
        "data_dir": "./data",
        "models_dir": "./models",
        "api": {"host": "0.0.0.0", "port": 8778},
        "registrar": {"url": "https://registrar.example", "key": "peerjs"},
        "ice_servers": [{"urls": "stun:stun.example:3478"}],
        "retention": {"days": 14, "max_gb": 5},
        "cameras": [
            camera(
                name="Front door",
                fps=5,
                detect=["object", "face", "fall"],
                objects={"labels": ["person", "car", "dog"], "min_score": 0.6},
                zones={"porch": [[0.1, 0.5], [0.6, 0.5], [0.6, 1.0], [0.1, 1.0]]},
            ),
            {"id": "garage", "source": "http://192.0.2.11/video.mjpg"},
            {"id": "shed", "source": "https://192.0.2.12/snapshot.jpg"},
            {"id": "clip", "source": "clips/a.mkv", "loop": False},
        ],
    }
    config = parse_config(raw, tmp_path)
    assert config.data_dir == tmp_path / "data"
    assert config.models_dir == tmp_path / "models"
    assert config.registrar is not None
    assert config.registrar.url == "https://registrar.example"
    door, garage, shed, clip = config.cameras
    assert door.name == "Front door"
    assert door.detect == ("object", "face", "fall")
    assert door.objects.threshold("dog") == 0.6
    assert door.zones["porch"][0] == (0.1, 0.5)
    assert door.source_type == "rtsp"
    assert (garage.source_type, garage.name) == ("mjpeg", "garage")
    assert shed.source_type == "snapshot"
    assert clip.source_type == "file"
    assert clip.source == str(tmp_path / "clips/a.mkv")
    assert not clip.loop


def test_per_label_min_scores(tmp_path: Path) -> None:
    raw = {"cameras": [camera(objects={"labels": ["person", "dog"], "min_score": {"dog": 0.4}})]}
    (door,) = parse_config(raw, tmp_path).cameras
    assert door.objects.threshold("dog") == 0.4
    assert door.objects.threshold("person") == 0.6


def test_registrar_is_optional_and_defaults_apply(tmp_path: Path) -> None:
    config = parse_config({"models_dir": "/m"}, tmp_path)
    assert config.registrar is None
    assert config.cameras == ()
    assert config.api.port == 8778
    assert config.models_dir == Path("/m")
    (door,) = parse_config({"cameras": [camera(record={"pre_roll": 3})]}, tmp_path).cameras
    assert (door.record.pre_roll, door.record.post_roll, door.record.max_length) == (3, 5, 300)


def test_models_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODELS_ENV, str(tmp_path / "elsewhere"))
    assert parse_config({}, tmp_path).models_dir == tmp_path / "elsewhere"
    assert parse_config({"models_dir": "mine"}, tmp_path).models_dir == tmp_path / "mine"


@pytest.mark.parametrize(
    ("cam", "expected"),
    [
        (camera(fps=100), "cameras[front_door].fps: value must be at most 30"),
        (camera(fps="fast"), "cameras[front_door].fps: expected float"),
        (camera(detect=["objects"]), "cameras[front_door].detect[0]: value must be one of"),
        (camera(zones={"porch": [[0, 0], [1, 1]]}), "cameras[front_door].zones.porch: a zone is"),
        (camera(zones={"porch": [[0, 0], [1, 1], [2, 0]]}), "cameras[front_door].zones.porch"),
        (
            camera(objects={"min_score": {"dog": 3}}),
            "cameras[front_door].objects.min_score.dog: value must be at most 1",
        ),
        (camera(colour="red"), "cameras[front_door].colour: extra keys not allowed"),
        (camera(source="ftp://x/y"), "cameras[front_door].source: unsupported scheme 'ftp'"),
        (camera(id="Front Door"), "cameras[Front Door].id: must be lowercase"),
        ({"source": "a.mkv"}, "cameras[0].id: required key not provided"),
        (camera(motion={"sensitivity": 2}), "cameras[front_door].motion.sensitivity: value must"),
        (
            camera(record={"max_length": 5}),
            "cameras[front_door].record.max_length: value must be at least 10",
        ),
    ],
)
def test_errors_name_the_camera_and_key(
    tmp_path: Path, cam: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"cameras": [cam]}, tmp_path)
    assert expected in str(err.value)


def test_every_error_is_reported(tmp_path: Path) -> None:
    raw = {
        "retention": {"days": -1},
        "cameras": [camera(fps=0), camera(id="back", min_area=7), camera()],
    }
    with pytest.raises(ConfigError) as err:
        parse_config(raw, tmp_path)
    assert "retention.days" in str(err.value)
    raw.pop("retention")
    with pytest.raises(ConfigError) as err:
        parse_config(raw, tmp_path)
    lines = str(err.value).splitlines()
    assert any(line.startswith("cameras[front_door].fps:") for line in lines)
    assert any(line.startswith("cameras[back].min_area:") for line in lines)
    assert "cameras[front_door].id: duplicate camera id 'front_door'" not in lines  # first is bad


def test_duplicate_ids(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cameras\[front_door\]\.id: duplicate camera id"):
        parse_config({"cameras": [camera(), camera()]}, tmp_path)


def test_top_level_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"api\.port: value must be at most 65535"):
        parse_config({"api": {"port": 70000}}, tmp_path)
    with pytest.raises(ConfigError, match=r"registrar\.url: not a URL"):
        parse_config({"registrar": {"url": "registrar.example"}}, tmp_path)
    with pytest.raises(ConfigError, match=r"config: must be a mapping"):
        parse_config(["cameras"], tmp_path)


def test_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cameras: [\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "missing.yaml")
    options = tmp_path / "options.json"
    options.write_text('{"cameras": [{"id": "a", "source": "rtsp://h/s"}]}')
    assert load_config(options).cameras[0].id == "a"


def test_example_config_loads() -> None:
    config = load_config(REPO / "addon" / "example-config.yaml")
    assert config.models_dir == (REPO.parent / "shared" / "models").resolve()
    assert (config.models_dir / "coco_labels.txt").is_file()
    assert Path(config.cameras[0].source).is_file()
