"""Command line: `peerwatch-edge --config FILE` runs the edge; `detect` tunes thresholds."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from . import __version__
from .config import DETECTORS, MODELS_ENV, ConfigError, ObjectsConfig, load_config
from .detectors import Detection, Detectors, ModelError, Models
from .imaging import area, holds
from .model import Kind


def parser() -> argparse.ArgumentParser:
    """The command line's grammar."""
    main = argparse.ArgumentParser(
        prog="peerwatch-edge", description="Peerwatch edge: cameras, detectors, events."
    )
    main.add_argument("--config", type=Path, help="YAML config file (runs the edge)")
    main.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    main.add_argument("--version", action="version", version=__version__)
    commands = main.add_subparsers(dest="command")
    detect = commands.add_parser("detect", help="print what the detectors find in images")
    detect.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    detect.add_argument(
        "--models-dir", type=Path, help=f"folder of the .tflite files (default ${MODELS_ENV})"
    )
    detect.add_argument(
        "--sequence",
        action="store_true",
        help="the images are one camera's frames, 1 s apart (shows falls)",
    )
    detect.add_argument(
        "--min-score",
        type=float,
        help="lowest object score printed (default: each label's default min_score)",
    )
    return main


def load_image(path: Path) -> np.ndarray:
    """Read an image as RGB; ValueError with the reason if it cannot be read."""
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        msg = f"{path}: no such file"
        raise ValueError(msg) from None
    except (UnidentifiedImageError, OSError) as err:
        msg = f"{path}: not a readable image ({err})"
        raise ValueError(msg) from None


def on_people(found: list[Detection]) -> list[dict[str, Any]]:
    """Detections as printed: a face or a fall inside a person's box is that person's `face` or
    `fall` ({score, box}, the best one), as events show them; the rest as they are."""
    people = [d for d in found if d.kind is Kind.OBJECT and d.label == "person"]
    shown = {id(person): person.to_dict() for person in people}
    rest = []
    for detection in sorted(found, key=lambda d: -d.score):
        if detection.kind is Kind.OBJECT:
            if detection.label != "person":
                rest.append(detection.to_dict())
            continue
        holders = [p for p in people if holds(p.box, detection.box)]
        if not holders:
            rest.append(detection.to_dict())
            continue
        person = shown[id(min(holders, key=lambda p: area(p.box)))]
        part = {k: v for k, v in detection.to_dict().items() if k in ("score", "box")}
        person.setdefault(str(detection.kind), part)
    return [shown[id(person)] for person in people] + rest


def detect(
    images: Sequence[Path], models_dir: Path, *, sequence: bool, min_score: float | None
) -> int:
    """Print one JSON line per image; return the exit status. Objects scoring less than
    `min_score` are left out (by default, less than their label's default `min_score`)."""
    objects = (
        ObjectsConfig() if min_score is None else ObjectsConfig(min_score=min_score, min_scores={})
    )
    lowest = min([objects.min_score, *objects.min_scores.values()])
    models = Models(models_dir, set(DETECTORS))
    detectors = Detectors(models, DETECTORS)
    status = 0
    for index, path in enumerate(images):
        try:
            image = load_image(path)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
            continue
        if not sequence:
            detectors = Detectors(models, DETECTORS)
        found = [
            d
            for d in detectors.detect(image, float(index), lowest)
            if d.kind is not Kind.OBJECT or d.score >= objects.threshold(d.label)
        ]
        line = {"image": str(path), "detections": on_people(found)}
        print(json.dumps(line), flush=True)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m peerwatch_edge` and `peerwatch-edge`."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "detect":
            models_dir = args.models_dir or Path(os.environ.get(MODELS_ENV, "models"))
            return detect(args.images, models_dir, sequence=args.sequence, min_score=args.min_score)
        if args.config is None:
            parser().print_usage(sys.stderr)
            print("error: give --config FILE to run the edge, or a command", file=sys.stderr)
            return 2
        from .service import run  # noqa: PLC0415

        asyncio.run(run(load_config(args.config)))
    except ConfigError as err:
        print(f"config error:\n{err}", file=sys.stderr)
        return 2
    except ModelError as err:
        print(f"model error: {err}", file=sys.stderr)
        return 1
    return 0
