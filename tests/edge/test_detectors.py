"""The detectors on real fixture images with the real models, and the `detect` command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from peerwatch_edge.cli import load_image
from peerwatch_edge.config import DETECTORS
from peerwatch_edge.detectors import Detection, Detectors, ModelError, Models
from peerwatch_edge.detectors.faces import make_anchors, nms
from peerwatch_edge.detectors.falls import torso_angle
from peerwatch_edge.model import Kind
from tests.support import PYTHON


@pytest.fixture(scope="module")
def models(models_dir: Path) -> Models:
    return Models(models_dir, set(DETECTORS))


def detect(models: Models, images_dir: Path, *names: str) -> list[list[Detection]]:
    """Run all detectors on images as one camera's frames, 1 s apart."""
    detectors = Detectors(models, DETECTORS)
    return [
        detectors.detect(load_image(images_dir / name), float(t), 0.5)
        for t, name in enumerate(names)
    ]


def labels(found: list[Detection], kind: Kind) -> list[str]:
    return [d.label for d in found if d.kind is kind]


@pytest.mark.parametrize(
    "name", ["person.jpg", "person-couch.jpg", "person_thermal_bw.jpg", "person-face.jpg"]
)
def test_person_found(models: Models, images_dir: Path, name: str) -> None:
    (found,) = detect(models, images_dir, name)
    person = max((d for d in found if d.label == "person"), key=lambda d: d.score)
    assert person.score >= 0.6
    xmin, ymin, xmax, ymax = person.box
    assert 0.0 <= xmin < xmax <= 1.0
    assert 0.0 <= ymin < ymax <= 1.0


def test_nothing_on_background(models: Models, images_dir: Path) -> None:
    (found,) = detect(models, images_dir, "background.jpg")
    assert "person" not in labels(found, Kind.OBJECT)
    assert not [d for d in found if d.kind is not Kind.OBJECT]


def test_face_inside_the_person(models: Models, images_dir: Path) -> None:
    (found,) = detect(models, images_dir, "person-face.jpg")
    faces = [d for d in found if d.kind is Kind.FACE]
    assert len(faces) == 1
    assert faces[0].score >= 0.7
    person = next(d for d in found if d.label == "person")
    face = faces[0].box
    assert person.box[0] <= face[0] < face[2] <= person.box[2]
    assert face[3] < (person.box[1] + person.box[3]) / 2  # in the upper half


def test_no_face_when_turned_away(models: Models, images_dir: Path) -> None:
    (found,) = detect(models, images_dir, "person-no-face.jpg")
    assert "person" in labels(found, Kind.OBJECT)
    assert labels(found, Kind.FACE) == []


def test_fall_standing_going_down_lying(models: Models, images_dir: Path) -> None:
    frames = detect(models, images_dir, "fall_img_1.png", "fall_img_2.png", "fall_img_3.png")
    assert labels(frames[0], Kind.FALL) == []
    falls = [d for d in frames[1] if d.kind is Kind.FALL]  # going down: reported at once
    assert len(falls) == 1
    assert falls[0].box[1] > 0.4  # the person is low, near the floor
    assert labels(frames[2], Kind.FALL) == []  # once per fall, not again while lying


@pytest.mark.parametrize(
    "names",
    [
        ("fall_img_1.png", "fall_img_4.png"),
        ("fall_img_5.png", "fall_img_6.png"),
        ("fall_img_3.png", "fall_img_3.png"),  # lying, never seen standing: no fall
        ("fall_img_1.png", "fall_img_1.png", "fall_img_4.png"),
    ],
)
def test_no_fall(models: Models, images_dir: Path, names: tuple[str, ...]) -> None:
    for found in detect(models, images_dir, *names):
        assert labels(found, Kind.FALL) == []


def test_fall_needs_a_short_window(models: Models, images_dir: Path) -> None:
    detectors = Detectors(models, DETECTORS, fall_window=10.0)
    detectors.detect(load_image(images_dir / "fall_img_1.png"), 0.0)
    late = detectors.detect(load_image(images_dir / "fall_img_3.png"), 30.0)
    assert labels(late, Kind.FALL) == []


def test_blazeface_anchors_and_nms() -> None:
    anchors = make_anchors()
    assert anchors.shape == (896, 2)
    assert anchors[0].tolist() == [1 / 32, 1 / 32]
    assert anchors[512].tolist() == [1 / 16, 1 / 16]
    boxes = [(0.1, 0.1, 0.3, 0.3), (0.11, 0.1, 0.31, 0.3), (0.6, 0.6, 0.8, 0.8)]
    assert nms(boxes, [0.8, 0.9, 0.7], 0.3) == [1, 2]


def test_torso_angle_gates_weak_keypoints() -> None:
    points = np.zeros((17, 3), dtype=np.float32)
    points[[5, 6], :] = [0.2, 0.5, 0.9]  # shoulders above
    points[[11, 12], :] = [0.6, 0.5, 0.9]  # hips below
    assert torso_angle(points, 100, 100) == pytest.approx(0.0)
    points[[11, 12], :] = [0.2, 0.9, 0.9]  # hips beside: lying
    assert torso_angle(points, 100, 100) == pytest.approx(90.0)
    points[[11, 12], 2] = 0.1
    assert torso_angle(points, 100, 100) is None


def test_missing_model_is_a_clear_error(tmp_path: Path, models_dir: Path) -> None:
    (tmp_path / "coco_labels.txt").write_text((models_dir / "coco_labels.txt").read_text())
    (tmp_path / "ssd_mobilenet_v1_coco_quant.tflite").write_bytes(
        (models_dir / "ssd_mobilenet_v1_coco_quant.tflite").read_bytes()
    )
    with pytest.raises(ModelError, match=r"model file not found: .*face_detection"):
        Models(tmp_path, {"face"})
    assert Models(tmp_path, set()).all().keys() == {"object"}


def run_detect(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "peerwatch_edge", "detect", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_detect_command_sequence(models_dir: Path, images_dir: Path) -> None:
    images = [str(images_dir / f"fall_img_{n}.png") for n in (1, 2, 3)]
    result = run_detect("--models-dir", str(models_dir), "--sequence", *images)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == images
    first = lines[0]["detections"]
    assert {"kind", "label", "score", "box"} <= set(first[0])
    assert any(d["label"] == "person" for d in first)
    falls = [[d["fall"] for d in line["detections"] if "fall" in d] for line in lines]
    assert [len(f) for f in falls] == [0, 1, 0]  # on the person who fell, on frame 2
    assert [d["kind"] for line in lines for d in line["detections"]].count("fall") == 0


@pytest.mark.slow
def test_detect_command_errors(models_dir: Path, images_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    result = run_detect(
        "--models-dir", str(models_dir), str(broken), str(images_dir / "person.jpg")
    )
    assert result.returncode == 1
    assert f"{broken}: not a readable image" in result.stderr
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["image"].endswith("person.jpg")

    result = run_detect("--models-dir", str(tmp_path / "none"), str(images_dir / "person.jpg"))
    assert result.returncode == 1
    assert "model error: model file not found" in result.stderr
    assert result.stdout == ""


def test_load_image_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        load_image(tmp_path / "nope.png")
    Image.new("RGBA", (4, 4)).save(tmp_path / "ok.png")
    assert load_image(tmp_path / "ok.png").shape == (4, 4, 3)
