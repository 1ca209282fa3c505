"""Benchmark event clips on the demo clip played as a camera in real time (one person visit per
6 s loop, an event and a clip each):

1. CPU the recorder's writer thread uses, against the CPU decoding the same stream costs (goal:
   recording adds ≤ 0.05x the camera's decode CPU);
2. time from an event's end (when its object was last seen) to its clip being complete, less
   the post-roll (goal ≤ 1 s);
3. disk bytes per clip against the source's bitrate times the clip's duration (goal ≤ 1.1x).

Run: .venv/bin/python bench/bench_clips.py [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import av  # noqa: E402

from peerwatch_edge.config import parse_config  # noqa: E402
from peerwatch_edge.edge import Edge  # noqa: E402
from peerwatch_edge.sources import StreamSource  # noqa: E402
from tests.support import MODELS_DIR, VIDEO_PATH  # noqa: E402

POST_ROLL = 2.0


def decode_cpu_per_second(video: Path) -> float:
    """CPU seconds decoding one second of the stream costs (every frame, as the camera does)."""
    source = StreamSource(str(video), 1000.0, timeout=None, file=True, realtime=False)
    start = time.process_time()
    frames = sum(1 for _ in source.frames(threading.Event()))
    with av.open(str(video)) as container:
        duration = float(container.duration or 0) / av.time_base
    return (time.process_time() - start) / duration if frames else 0.0


def bitrate(video: Path) -> float:
    """The source's bytes per second."""
    with av.open(str(video)) as container:
        return video.stat().st_size / (float(container.duration or 1) / av.time_base)


async def record(video: Path, seconds: float) -> tuple[float, list[float], list[tuple[int, float]]]:
    """Run the camera for `seconds`; return the writer's CPU seconds, the delays from each
    event's end to its complete clip (less the post-roll), and (bytes, duration) per clip."""
    with tempfile.TemporaryDirectory() as data:
        camera = {"id": "door", "source": str(video), "loop": True, "end_after": 1}
        camera["record"] = {"pre_roll": 2.0, "post_roll": POST_ROLL}
        config = parse_config(
            {"data_dir": data, "models_dir": str(MODELS_DIR), "cameras": [camera]}
        )
        edge = Edge(config)
        delays: list[float] = []
        clips: list[tuple[int, float]] = []
        async with edge.bus.subscribe() as subscription:
            await edge.start()
            try:
                deadline = time.monotonic() + seconds
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        message = await asyncio.wait_for(subscription.get(), left)
                    except TimeoutError:
                        break
                    event = message.get("event")
                    if event is None:
                        continue
                    if event["clip_duration"] and event["ended_at"]:
                        ended = datetime.fromisoformat(event["ended_at"].replace("Z", "+00:00"))
                        late = datetime.now(UTC) - ended - timedelta(seconds=POST_ROLL)
                        delays.append(late.total_seconds())
                        path = edge.store.clip_path(event["id"])
                        clips.append((path.stat().st_size, event["clip_duration"]))
                recorder = edge.cameras["door"].recorder
                assert recorder is not None
                cpu = recorder.cpu_seconds
            finally:
                await edge.stop()
    return cpu, delays, clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=VIDEO_PATH)
    parser.add_argument("--seconds", type=float, default=40.0, help="how long the camera runs")
    args = parser.parse_args()

    decode = decode_cpu_per_second(args.video)
    cpu, delays, clips = asyncio.run(record(args.video, args.seconds))
    per_second = cpu / args.seconds
    print(f"decode: {1000 * decode:.1f} ms CPU per second of stream")
    print(
        f"recording: {1000 * per_second:.2f} ms CPU per second -> "
        f"{per_second / decode:.4f}x the decode CPU (goal <= 0.05x)"
    )
    if not delays:
        raise SystemExit("no clip completed: run longer")
    print(
        f"event end -> clip complete, less the {POST_ROLL:.0f} s post-roll: median "
        f"{statistics.median(delays):.2f} s, max {max(delays):.2f} s over {len(delays)} clips "
        "(goal <= 1 s)"
    )
    ratios = [size / (bitrate(args.video) * duration) for size, duration in clips]
    print(
        f"clip bytes / (source bitrate x duration): median {statistics.median(ratios):.3f}x, "
        f"max {max(ratios):.3f}x (goal <= 1.1x)"
    )


if __name__ == "__main__":
    main()
