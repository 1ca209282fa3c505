"""The interpreter loader the edge uses runs the real models on real images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from peerwatch_edge.detectors.interpreter import ModelError, load_interpreter


def test_coco_model_finds_person(models_dir: Path, images_dir: Path) -> None:
    interpreter = load_interpreter(models_dir / "ssd_mobilenet_v1_coco_quant.tflite")
    (inp,) = interpreter.get_input_details()
    assert list(inp["shape"]) == [1, 300, 300, 3]
    image = Image.open(images_dir / "person.jpg").convert("RGB").resize((300, 300))
    interpreter.set_tensor(inp["index"], np.asarray(image, dtype=np.uint8)[None])
    interpreter.invoke()
    boxes, classes, scores, count = (
        interpreter.get_tensor(o["index"]) for o in interpreter.get_output_details()
    )
    labels = (models_dir / "coco_labels.txt").read_text().splitlines()
    found = {
        labels[int(classes[0][i]) + 1]: float(scores[0][i])
        for i in range(int(count[0]))
        if scores[0][i] >= 0.5
    }
    assert found.get("person", 0.0) >= 0.6
    ymin, xmin, ymax, xmax = boxes[0][0]
    assert 0.0 <= ymin < ymax <= 1.0
    assert 0.0 <= xmin < xmax <= 1.0


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model file not found"):
        load_interpreter(tmp_path / "nope.tflite")


def test_corrupt_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer" * 8)
    with pytest.raises(ModelError, match="cannot load model"):
        load_interpreter(bad)
