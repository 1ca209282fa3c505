"""What every detector returns, and the thread-safe model they run."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..model import Box, Kind
from .interpreter import load_interpreter


@dataclass(slots=True, frozen=True)
class Detection:
    """One thing found in one frame."""

    kind: Kind
    label: str
    score: float
    box: Box

    def to_dict(self) -> dict[str, Any]:
        """Return the detection as the `detect` command prints it."""
        return {
            "kind": str(self.kind),
            "label": self.label,
            "score": round(self.score, 4),
            "box": [round(v, 4) for v in self.box],
        }


class Model:
    """A TFLite interpreter safe to call from any thread (one call at a time)."""

    def __init__(self, path: Path, num_threads: int = 1) -> None:
        self.path = path
        self.num_threads = num_threads
        self._interpreter = load_interpreter(path, num_threads)
        (self._input,) = self._interpreter.get_input_details()
        self._outputs = self._interpreter.get_output_details()
        self._lock = threading.Lock()
        """Held while the interpreter runs."""
        self._counts_lock = threading.Lock()
        _, self.height, self.width, _ = (int(v) for v in self._input["shape"])
        self._invocations = 0
        self._seconds = 0.0

    @property
    def input_dtype(self) -> Any:  # noqa: ANN401
        """The numpy dtype the model wants."""
        return self._input["dtype"]

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        """Invoke the model on one input batch; return copies of all outputs."""
        with self._lock:
            start = time.perf_counter()
            self._interpreter.set_tensor(self._input["index"], tensor)
            self._interpreter.invoke()
            outputs = [self._interpreter.get_tensor(o["index"]).copy() for o in self._outputs]
            elapsed = time.perf_counter() - start
        with self._counts_lock:
            self._seconds += elapsed
            self._invocations += 1
        return outputs

    def usage(self) -> tuple[int, float]:
        """(invocations, mean inference milliseconds) so far; any thread, without waiting for
        an inference in progress."""
        with self._counts_lock:
            count, seconds = self._invocations, self._seconds
        return count, 1000.0 * seconds / count if count else 0.0
