"""Prometheus text exposition of the edge's and the API's figures."""

from __future__ import annotations

import time
from collections.abc import Iterable

from .state import ApiState

type Sample = tuple[dict[str, str], float]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(name: str, kind: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        text = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
        lines.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")
    return lines


def render_metrics(state: ApiState) -> str:
    """All metrics as one text body."""
    stats = state.edge.stats()
    cameras: dict[str, dict[str, object]] = stats["cameras"]
    detectors: dict[str, dict[str, float]] = stats["detectors"]

    def per_camera(key: str) -> list[Sample]:
        return [({"camera": cid}, float(values[key])) for cid, values in cameras.items()]  # type: ignore[arg-type]

    families = [
        ("peerwatch_camera_online", "gauge", "1 when the camera delivers frames", "online"),
        ("peerwatch_camera_fps", "gauge", "frames per second received", "fps"),
        ("peerwatch_camera_frames_total", "counter", "frames received", "frames"),
        ("peerwatch_camera_analysed_total", "counter", "frames run through detectors", "analysed"),
        ("peerwatch_camera_events_total", "counter", "events started", "events"),
        ("peerwatch_camera_reconnects_total", "counter", "source reconnects", "reconnects"),
        ("peerwatch_camera_analysis_ms", "gauge", "mean analysis time per frame", "analysis_ms"),
    ]
    lines: list[str] = []
    for name, kind, help_text, key in families:
        lines += _family(name, kind, help_text, per_camera(key))
    lines += _family(
        "peerwatch_inference_ms",
        "gauge",
        "mean inference time per detector",
        [({"detector": name}, float(d["inference_ms"])) for name, d in detectors.items()],
    )
    lines += _family(
        "peerwatch_inferences_total",
        "counter",
        "inferences per detector",
        [({"detector": name}, float(d["invocations"])) for name, d in detectors.items()],
    )
    lines += _family(
        "peerwatch_store_write_errors_total",
        "counter",
        "event store writes that failed",
        [({}, float(stats["store"]["write_errors"]))],
    )
    lines += _family(
        "peerwatch_ws_clients", "gauge", "open WebSocket clients", [({}, len(state.ws_clients))]
    )
    lines += _family(
        "peerwatch_webrtc_sessions",
        "gauge",
        "open WebRTC live sessions",
        [({}, len(state.webrtc))],
    )
    lines += _family(
        "peerwatch_paired_devices",
        "gauge",
        "paired remote devices",
        [({}, len(state.devices.list()))],
    )
    lines += _family(
        "peerwatch_uptime_seconds",
        "gauge",
        "seconds since the API started",
        [({}, round(time.monotonic() - state.started, 1))],
    )
    return "\n".join(lines) + "\n"
