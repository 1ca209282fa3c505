"""TFLite detectors: COCO objects, faces inside person boxes, falls from person poses."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..imaging import Picture
from ..model import Kind
from .base import Detection, Model
from .faces import FaceDetector, nms
from .falls import BACKING_MIN_SCORE, Falls, PoseEstimator
from .interpreter import ModelError
from .objects import ObjectDetector

__all__ = ["Detection", "Detectors", "ModelError", "Models"]

PERSON_MIN_SCORE = 0.4
"""Person boxes this sure are searched for faces even if below the event threshold."""


class Models:
    """The loaded models, shared by all cameras (each model serialises its own calls)."""

    def __init__(self, models_dir: Path, kinds: set[str], num_threads: int = 1) -> None:
        self.models_dir = models_dir
        self.objects = ObjectDetector(models_dir, num_threads)
        self.faces = FaceDetector(models_dir, num_threads) if "face" in kinds else None
        self.poses = PoseEstimator(models_dir, num_threads) if "fall" in kinds else None

    def all(self) -> dict[str, Model]:
        """Return the loaded models by detector name."""
        found = {"object": self.objects.model}
        if self.faces is not None:
            found["face"] = self.faces.model
        if self.poses is not None:
            found["fall"] = self.poses.model
        return found


class Detectors:
    """One camera's detectors: objects, then faces inside person boxes, and falls."""

    def __init__(self, models: Models, kinds: tuple[str, ...], fall_window: float = 10.0) -> None:
        missing = {"face", "fall"} & set(kinds) - set(models.all())
        if missing:
            msg = f"detectors not loaded: {', '.join(sorted(missing))}"
            raise ModelError(msg)
        self.models = models
        self.kinds = kinds
        self.falls = Falls(models.poses, fall_window)

    def prepare(self, picture: Picture) -> np.ndarray:
        """The object model's input for a frame (`detect`'s `tensor`), made on any thread."""
        return self.models.objects.prepare(picture)

    def detect(
        self,
        image: np.ndarray,
        when: float,
        min_score: float = 0.3,
        tensor: np.ndarray | None = None,
    ) -> list[Detection]:
        """Run every enabled detector on one RGB frame taken at `when` (seconds); `tensor` is
        the object model's input if already `prepare`d."""
        objects = self.models.objects.detect(image, min(min_score, BACKING_MIN_SCORE), tensor)
        people = [d for d in objects if d.label == "person"]
        people = [people[i] for i in nms([p.box for p in people], [p.score for p in people], 0.5)]
        persons = [p for p in people if p.score >= PERSON_MIN_SCORE]
        found = [d for d in objects if d.score >= min_score]
        faces_model = self.models.faces
        if "face" in self.kinds and faces_model is not None:
            faces = [f for p in persons for f in faces_model.detect_in_person(image, p.box)]
            kept = nms([f.box for f in faces], [f.score for f in faces], 0.3)
            found += [faces[i] for i in kept]
        if "fall" in self.kinds:
            found += self.falls.find(image, when, people)
        if "object" not in self.kinds:
            found = [d for d in found if d.kind is not Kind.OBJECT]
        return found
