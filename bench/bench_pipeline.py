"""Benchmark the edge pipeline against raw TFLite inference on the same frames, in one run.

1. raw `Interpreter.invoke()` fps on the clip's frames, already resized (the limit), with the
   same interpreter settings (num_threads) as the pipeline's;
2. full pipeline fps: the real camera worker reading the clip as fast as it can (decode, motion
   gate, resize, inference, tracking, event store with snapshots) → ratio to 1 (goal ≥ 0.9);
3. CPU time of the analysis on a still scene with the motion gate vs without (goal ≤ 0.1);
4. how many 5 fps cameras fit on 2 cores, from the measured per-frame CPU costs.

Raw and pipeline runs alternate in rounds so that load from other processes hits both alike: the
ratio of the best rounds (the least disturbed) and the median of each round's ratio are shown.

Run: .venv/bin/python bench/bench_pipeline.py [--models-dir DIR] [--video FILE] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from peerwatch_edge.config import parse_config
from peerwatch_edge.detectors import Detectors, Models
from peerwatch_edge.detectors.base import Model
from peerwatch_edge.edge import Edge
from peerwatch_edge.imaging import Picture
from peerwatch_edge.motion import MotionGate
from peerwatch_edge.sources import StreamSource

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PEERWATCH_SHARED", ROOT.parent / "shared"))


def decode_all(video: Path) -> tuple[list[np.ndarray], float]:
    """Every frame of the clip, and the CPU seconds one frame's decode costs."""
    source = StreamSource(str(video), 1000.0, timeout=None, file=True, realtime=False)
    start = time.process_time()
    frames = [picture.image for picture in source.frames(threading.Event())]
    return frames, (time.process_time() - start) / len(frames)


def raw_fps(model: Model, tensors: list[np.ndarray], seconds: float) -> tuple[float, float]:
    """`invoke()` alone on pre-resized frames: the limit for one inference thread.

    Returns (frames per second, CPU seconds per frame)."""
    interpreter = model._interpreter
    index = interpreter.get_input_details()[0]["index"]
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        interpreter.set_tensor(index, tensors[count % len(tensors)])
        interpreter.invoke()
        count += 1
    return count / (time.perf_counter() - start), (time.process_time() - cpu) / count


async def pipeline_fps(models_dir: Path, video: Path, seconds: float) -> tuple[float, float, dict]:
    """The real Edge and camera worker on the clip, looped, unpaced.

    Returns (analysed frames per second, process CPU seconds per analysed frame, stats with the
    object model's `num_threads` and `busy`, the share of the time spent analysing)."""
    with tempfile.TemporaryDirectory() as data:
        camera = {"id": "bench", "source": str(video), "fps": 30, "loop": True, "realtime": False}
        config = parse_config(
            {"data_dir": data, "models_dir": str(models_dir), "cameras": [camera]}
        )
        edge = Edge(config)
        cam = edge.cameras["bench"]
        cam.feed.source = StreamSource(
            str(video), 30.0, timeout=None, file=True, realtime=False, loop=True
        )
        cam.analyser.gate.interval = 0.0  # every frame goes to the detectors, still or not
        await edge.start()
        try:
            await asyncio.sleep(2.0)  # warm up
            counts = cam.analyser.counts()
            first, busy = counts.analysed, counts.analysis_seconds
            start, cpu = time.perf_counter(), time.process_time()
            await asyncio.sleep(seconds)
            counts = cam.analyser.counts()
            done, elapsed = counts.analysed - first, time.perf_counter() - start
            fps = done / elapsed
            cpu_per_frame = (time.process_time() - cpu) / done
            stats = edge.stats()
            stats["busy"] = (counts.analysis_seconds - busy) / elapsed
            events = await edge.store.count()
            assert edge.models is not None
            stats["num_threads"] = edge.models.objects.model.num_threads
        finally:
            await edge.stop()
    stats["events_stored"] = events
    return fps, cpu_per_frame, stats


def still_cpu(models: Models, still: np.ndarray, frames: int, *, gated: bool) -> float:
    """CPU seconds to analyse `frames` copies of a still scene at 5 fps stream time."""
    detectors = Detectors(models, ("object",))
    gate = MotionGate(0.5, 10.0)
    start = time.process_time()
    for i in range(frames):
        if not gated or gate.should_run(still, i / 5.0):
            detectors.detect(still, i / 5.0)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=SHARED / "models")
    parser.add_argument(
        "--video", type=Path, default=SHARED / "fixtures/video/test2-cam-person1.mkv"
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each timed run")
    parser.add_argument("--rounds", type=int, default=5, help="alternating raw/pipeline rounds")
    args = parser.parse_args()

    models = Models(args.models_dir, {"object"})
    frames, decode_cpu = decode_all(args.video)
    tensors = [models.objects.prepare(Picture(frame)) for frame in frames]
    print(
        f"clip: {len(frames)} frames {frames[0].shape[1]}x{frames[0].shape[0]}, "
        f"decode {1000 * decode_cpu:.1f} ms CPU/frame"
    )

    raws, pipes = [], []
    for _ in range(args.rounds):
        raws.append(raw_fps(models.objects.model, tensors, args.seconds))
        pipes.append(asyncio.run(pipeline_fps(args.models_dir, args.video, args.seconds)))
    threads = {models.objects.model.num_threads} | {p[2]["num_threads"] for p in pipes}
    if len(threads) != 1:
        raise SystemExit(f"raw and pipeline interpreters differ: num_threads {threads}")
    raw = max(r[0] for r in raws)
    full = max(p[0] for p in pipes)
    raw_cpu = statistics.median(r[1] for r in raws)
    full_cpu = statistics.median(p[1] for p in pipes)
    analysis_ms = statistics.median(p[2]["cameras"]["bench"]["analysis_ms"] for p in pipes)
    paired = statistics.median(p[0] / r[0] for r, p in zip(raws, pipes, strict=True))
    print(f"interpreter: num_threads={threads.pop()} (raw and pipeline)")
    print(
        f"raw Interpreter.invoke():        {raw:6.1f} fps  ({1000 * raw_cpu:.1f} ms CPU/frame)"
        f"  rounds: {', '.join(f'{r[0]:.1f}' for r in raws)}"
    )
    print(
        f"full pipeline (camera worker):   {full:6.1f} fps  ({1000 * full_cpu:.1f} ms CPU/frame,"
        f" decode included)  rounds: {', '.join(f'{p[0]:.1f}' for p in pipes)}"
    )
    busy = statistics.median(p[2]["busy"] for p in pipes)
    print(
        f"  analysis {analysis_ms} ms/frame, busy {busy:.1%} of the time (medians), "
        f"{statistics.median(p[2]['events_stored'] for p in pipes)} events stored"
    )
    print(f"pipeline / raw:                  {full / raw:6.2f}x  (best rounds; goal >= 0.9)")
    print(f"pipeline / raw, median of rounds: {paired:5.2f}x")
    print(
        f"raw CPU / pipeline CPU per frame: {raw_cpu / full_cpu:5.2f}x, "
        f"{raw_cpu / (full_cpu - decode_cpu):.2f}x without decode (overlapped on its thread)"
    )

    still = frames[0].copy()
    count = int(min(300, 5 * args.seconds * 3))
    without = still_cpu(models, still, count, gated=False)
    with_gate = still_cpu(models, still, count, gated=True)
    print(
        f"still scene, {count} frames at 5 fps: CPU {without:.2f} s without gate, "
        f"{with_gate:.3f} s with gate -> {with_gate / without:.3f}x  (goal <= 0.1)"
    )

    # Per analysed frame the camera worker spends full_cpu, one decode included; a 5 fps camera
    # on a 10 fps stream decodes every frame and analyses every other one.
    analysis_cpu = full_cpu - decode_cpu
    gate_cpu = with_gate / count
    native_fps = 10.0  # the clip's own rate
    busy = native_fps * decode_cpu + 5 * analysis_cpu
    quiet = native_fps * decode_cpu + 5 * gate_cpu
    print(
        f"per 5 fps camera ({native_fps:.0f} fps stream): {busy:.2f} cores with motion, "
        f"{quiet:.2f} cores when still"
    )
    print(f"5 fps cameras on 2 cores: {int(2 / busy)} all busy, {int(2 / quiet)} all still")


if __name__ == "__main__":
    main()
