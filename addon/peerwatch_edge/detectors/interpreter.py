"""Load a TFLite interpreter from `tflite_runtime` when installed, else from `ai_edge_litert`."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

_MODULES = ("tflite_runtime.interpreter", "ai_edge_litert.interpreter")


class ModelError(Exception):
    """A model file is missing or cannot be loaded."""


def interpreter_class() -> type[Any]:
    """Return the `Interpreter` class of the first TFLite runtime that imports."""
    for name in _MODULES:
        try:
            return importlib.import_module(name).Interpreter  # type: ignore[no-any-return]
        except ImportError:
            continue
    msg = "no TFLite runtime: install ai-edge-litert (or tflite-runtime)"
    raise ModelError(msg)


def load_interpreter(path: Path, num_threads: int = 1) -> Any:  # noqa: ANN401
    """Load the model at `path` and allocate its tensors."""
    if not path.is_file():
        msg = f"model file not found: {path}"
        raise ModelError(msg)
    try:
        interpreter = interpreter_class()(model_path=str(path), num_threads=num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        msg = f"cannot load model {path}: {err}"
        raise ModelError(msg) from err
    return interpreter
