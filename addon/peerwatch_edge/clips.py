"""Event clips as files: fragmented MP4 (playable up to its last fragment after a crash), the
codecs that can be remuxed into one as they are, and reading back how long a clip is."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import av
import av.error

_LOGGER = logging.getLogger(__name__)

MP4_OPTIONS: Final = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
"""A fragment per keyframe, the index up front: a cut file plays up to its last fragment."""
REMUXABLE: Final = frozenset({"h264", "hevc"})
"""Codecs browsers and phones play from MP4, copied packet for packet (no re-encoding)."""


def clip_duration(path: Path) -> float | None:
    """Seconds from a clip's first video packet to the end of its last (None: unreadable)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            start = end = None
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                begin = float(packet.pts * packet.time_base)
                start = begin if start is None else min(start, begin)
                finish = begin + float((packet.duration or 0) * packet.time_base)
                end = finish if end is None else max(end, finish)
    except (av.error.FFmpegError, OSError) as err:
        _LOGGER.warning("cannot read clip %s: %s", path, err)
        return None
    return None if start is None or end is None else round(end - start, 3)
