"""Falls and phantom people with the real models on Ambianic's images, as taken and as other
cameras would see them (mirrored, rolled, farther: see tests/labelled.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from peerwatch_edge.cli import main
from peerwatch_edge.config import DETECTORS, ObjectsConfig, parse_config
from peerwatch_edge.detectors import Detection, Detectors, Models
from peerwatch_edge.detectors.falls import SEARCH_SECONDS
from peerwatch_edge.model import Box, Kind
from tests.labelled import (
    FALL_CASES,
    PERSON_IMAGES,
    VARIANTS,
    FallCase,
    frame,
    noisy,
    variant,
)


@pytest.fixture(scope="module")
def models(models_dir: Path) -> Models:
    return Models(models_dir, set(DETECTORS))


def falls_in(models: Models, images_dir: Path, case: FallCase, how: str = "") -> list[int]:
    """The frames of a case (one camera, 1 s apart) on which a fall is reported."""
    detectors = Detectors(models, DETECTORS)
    return [
        index
        for index, name in enumerate(case.frames)
        if any(
            d.kind is Kind.FALL
            for d in detectors.detect(frame(images_dir, name, how), float(index), 0.6)
        )
    ]


AMBIANIC = [c for c in FALL_CASES if c.ambianic in ("fall", "no fall")]


@pytest.mark.parametrize("case", AMBIANIC, ids=[c.name for c in AMBIANIC])
def test_ambianic_expectation(models: Models, images_dir: Path, case: FallCase) -> None:
    """Ambianic's own fall tests on its images: a fall for standing → going down (reported on
    the frame going down), none for the rest."""
    assert falls_in(models, images_dir, case) == list(case.falls)


@pytest.mark.parametrize("how", VARIANTS[1:])
@pytest.mark.parametrize("case", FALL_CASES, ids=[c.name for c in FALL_CASES])
def test_as_other_cameras_see_it(
    models: Models, images_dir: Path, case: FallCase, how: str
) -> None:
    assert falls_in(models, images_dir, case, how) == list(case.falls)


def test_standing_lying_a_fall_ambianic_misses(models: Models, images_dir: Path) -> None:
    """Ambianic's model finds no pose of the person lying on the floor; turned, ours does."""
    (case,) = [c for c in FALL_CASES if c.frames == ("fall_img_1.png", "fall_img_3.png")]
    assert falls_in(models, images_dir, case) == [1]


@pytest.mark.parametrize("how", ["", "mirror"])
def test_one_fall_reported_on_the_frame_going_down(
    models: Models, images_dir: Path, how: str
) -> None:
    detectors = Detectors(models, DETECTORS)
    frames = [
        detectors.detect(frame(images_dir, f"fall_img_{n}.png", how), float(t), 0.6)
        for t, n in enumerate((1, 2, 3, 3))
    ]
    falls = [[d for d in found if d.kind is Kind.FALL] for found in frames]
    assert [len(f) for f in falls] == [0, 1, 0, 0]
    (fall,) = falls[1]
    assert fall.score >= 0.6
    assert fall.box[1] > 0.4  # low in the frame, near the floor
    person = max((d for d in frames[1] if d.label == "person"), key=lambda d: d.score)
    assert fall.box == person.box


def test_falls_again_after_getting_up(models: Models, images_dir: Path) -> None:
    detectors = Detectors(models, DETECTORS)
    reported = [
        any(
            d.kind is Kind.FALL
            for d in detectors.detect(frame(images_dir, f"fall_img_{n}.png"), float(t), 0.6)
        )
        for t, n in enumerate((1, 2, 3, 4, 3))
    ]
    assert reported == [False, True, False, False, True]


def mirrored(box: Box, how: str) -> Box:
    return (1 - box[2], box[1], 1 - box[0], box[3]) if how == "mirror" else box


@pytest.mark.parametrize("how", ["", "mirror"])
@pytest.mark.parametrize(
    ("down", "boxes"),
    [
        ("fall_img_3.png", []),  # the object model does not see the person lying
        ("fall_img_3.png", [(0.40, 0.75, 0.59, 0.99)]),  # ...or boxes only their legs
        ("fall_img_2.png", []),
        ("fall_img_2.png", [(0.29, 0.49, 0.45, 0.75)]),  # only the head and arms
    ],
    ids=["lying-missed", "lying-part", "going-down-missed", "going-down-part"],
)
def test_fall_found_where_the_object_model_misses_it(
    models: Models, images_dir: Path, down: str, boxes: list[Box], how: str
) -> None:
    """Poses are searched for where the person stood and on the whole frame, turned."""
    detectors = Detectors(models, DETECTORS)
    detectors.detect(frame(images_dir, "fall_img_1.png", how), 0.0, 0.6)
    people = [Detection(Kind.OBJECT, "person", 0.5, mirrored(b, how)) for b in boxes]
    falls = detectors.falls.find(frame(images_dir, down, how), 1.0, people)
    assert len(falls) == 1
    assert falls[0].box[3] > 0.6  # on the floor, not where the person stood


def empty_room(images_dir: Path) -> np.ndarray:
    """fall_img_1 without the person: the wall behind them taken from fall_img_3."""
    room = frame(images_dir, "fall_img_1.png").copy()
    room[48:340, 350:500] = frame(images_dir, "fall_img_3.png")[48:340, 350:500]
    return room


def pose_passes(models: Models) -> int:
    assert models.poses is not None
    return models.poses.model.usage()[0]


@pytest.mark.parametrize("how", ["", "mirror", "far"])
def test_no_fall_when_the_person_walks_out(models: Models, images_dir: Path, how: str) -> None:
    """Searching where they stood finds only furniture, and stops after SEARCH_SECONDS."""
    detectors = Detectors(models, DETECTORS)
    room = variant(empty_room(images_dir), how)
    detectors.detect(frame(images_dir, "fall_img_1.png", how), 0.0, 0.6)
    for t in (1.0, 2.0):
        found = detectors.detect(room, t, 0.6)
        assert {d.label for d in found if d.kind is not Kind.FACE} == {"chair"}
    before = pose_passes(models)
    detectors.detect(room, 2.0 + SEARCH_SECONDS + 0.5, 0.6)
    assert pose_passes(models) == before


@pytest.mark.parametrize(
    ("name", "passes"),
    [("background.jpg", 0), ("fall_img_1.png", 1), ("person.jpg", 0), ("fall_img_4.png", 1)],
)
def test_pose_passes_per_frame(models: Models, images_dir: Path, name: str, passes: int) -> None:
    """No pose without a person box, nor for a person the frame cuts (person.jpg) when no one
    stood there lately: such a pose could neither be upright nor a fall; one pose for a person
    standing in full view, not turned or searched."""
    detectors = Detectors(models, DETECTORS)
    before = pose_passes(models)
    detectors.detect(frame(images_dir, name), 0.0, 0.6)
    assert pose_passes(models) - before == passes


@pytest.mark.parametrize("how", ["", "mirror"])
def test_standing_still_is_posed_once_and_the_fall_still_caught(
    models: Models, images_dir: Path, how: str
) -> None:
    """A pose is reused while the person box stays where it was estimated (5 s at 5 fps: one
    pose); the box moves when they fall, and the fall is reported on that frame."""
    detectors = Detectors(models, DETECTORS)
    standing, rng = frame(images_dir, "fall_img_1.png", how), np.random.default_rng(7)
    before = pose_passes(models)
    for index in range(25):
        found = detectors.detect(noisy(standing, rng), index / 5, 0.6)
        assert not [d for d in found if d.kind is Kind.FALL]
    assert pose_passes(models) - before == 1
    found = detectors.detect(frame(images_dir, "fall_img_2.png", how), 5.0, 0.6)
    assert len([d for d in found if d.kind is Kind.FALL]) == 1


def printed(capsys: pytest.CaptureFixture[str], models_dir: Path, *args: str) -> list[dict]:
    """The `detect` command's JSON lines."""
    assert main(["detect", "--models-dir", str(models_dir), *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_detect_leaves_the_empty_wall_phantom_out(
    capsys: pytest.CaptureFixture[str], models_dir: Path, images_dir: Path
) -> None:
    """The object model scores a 'person' at 0.56 on an empty wall with coats: under the
    person default; `--min-score` still shows it for tuning."""
    wall = str(images_dir / "fall_img_6.png")
    (line,) = printed(capsys, models_dir, wall)
    assert line["detections"] == []
    (line,) = printed(capsys, models_dir, "--min-score", "0.5", wall)
    assert 0.5 <= max(d["score"] for d in line["detections"] if d["label"] == "person") < 0.6


def test_detect_sequence_prints_the_fall_once(
    capsys: pytest.CaptureFixture[str], models_dir: Path, images_dir: Path
) -> None:
    images = [str(images_dir / f"fall_img_{n}.png") for n in (1, 2, 3)]
    lines = printed(capsys, models_dir, "--sequence", *images)
    falls = [[d["fall"] for d in line["detections"] if "fall" in d] for line in lines]
    assert [len(f) for f in falls] == [0, 1, 0]  # on the person, as events show it
    assert set(falls[1][0]) == {"score", "box"}
    faces = [d["face"] for d in lines[0]["detections"] if "face" in d]
    assert len(faces) == 1  # the face seen on the standing person
    assert not any(d["kind"] == "face" for line in lines for d in line["detections"])


PEOPLE = [name for name, person in PERSON_IMAGES.items() if person and "fall" not in name]


@pytest.mark.parametrize("how", ["", "mirror"])
@pytest.mark.parametrize("name", [*PEOPLE, "fall_img_6.png", "background.jpg"])
def test_person_default_min_score(models: Models, images_dir: Path, name: str, how: str) -> None:
    """Ambianic's people (thermal, couch, faces) pass the person default; phantoms do not."""
    threshold = ObjectsConfig().threshold("person")
    found = Detectors(models, DETECTORS).detect(frame(images_dir, name, how), 0.0, threshold)
    assert ("person" in [d.label for d in found]) is PERSON_IMAGES[name]


def test_min_score_defaults_per_label(tmp_path: Path) -> None:
    def objects(**given: object) -> ObjectsConfig:
        camera = {"id": "door", "source": "rtsp://cam/1", "objects": {"labels": ["person"]}}
        camera["objects"].update(given)  # type: ignore[attr-defined]
        return parse_config({"cameras": [camera]}, tmp_path).cameras[0].objects

    assert objects().threshold("person") == 0.6
    assert objects(min_score={"dog": 0.4}).threshold("person") == 0.6
    assert objects(min_score={"dog": 0.4}).threshold("dog") == 0.4
    assert objects(min_score={"person": 0.7}).threshold("person") == 0.7
    assert objects(min_score=0.5).threshold("person") == 0.5  # one score for every label
