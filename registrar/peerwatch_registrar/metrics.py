"""Prometheus counters of one registrar process."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

_PREFIX = "peerwatch_registrar"


@dataclass(slots=True)
class Metrics:
    """Counters kept by the hub; gauges are read when rendering."""

    messages_relayed: int = 0
    bytes_relayed: int = 0
    rejected_frames: Counter[str] = field(default_factory=Counter)
    refused_registrations: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)

    def reject(self, reason: str) -> None:
        """Count one refused client frame."""
        self.rejected_frames[reason] += 1

    def render(self, gauges: dict[str, tuple[str, float]]) -> str:
        """Prometheus text format: the given gauges (name → help, value) and the counters."""
        lines: list[str] = []

        def metric(name: str, kind: str, text: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP {_PREFIX}_{name} {text}")
            lines.append(f"# TYPE {_PREFIX}_{name} {kind}")
            lines.extend(f"{_PREFIX}_{name}{labels} {value:g}" for labels, value in samples)

        for name, (text, value) in gauges.items():
            metric(name, "gauge", text, [("", value)])
        for name, text, value in (
            ("messages_relayed_total", "Messages relayed.", self.messages_relayed),
            ("bytes_relayed_total", "Bytes relayed.", self.bytes_relayed),
        ):
            metric(name, "counter", text, [("", value)])
        metric(
            "rejected_frames_total",
            "counter",
            "Client frames refused, by reason.",
            [(f'{{reason="{r}"}}', n) for r, n in sorted(self.rejected_frames.items())],
        )
        metric(
            "refused_registrations_total",
            "counter",
            "WebSocket registrations refused, by reason.",
            [(f'{{reason="{r}"}}', n) for r, n in sorted(self.refused_registrations.items())],
        )
        metric(
            "closed_sockets_total",
            "counter",
            "Sockets the server closed, by reason.",
            [(f'{{reason="{r}"}}', n) for r, n in sorted(self.closed.items())],
        )
        return "\n".join(lines) + "\n"
