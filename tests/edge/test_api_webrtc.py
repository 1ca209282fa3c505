"""WebRTC sessions in process: the concurrent-session limit and closing on shutdown.

Real aiortc peers on loopback; the camera is a real (not started) edge camera, since neither
case needs frames.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiortc import RTCPeerConnection

from peerwatch_edge.api.errors import ApiError
from peerwatch_edge.api.webrtc import WebRtcSessions
from peerwatch_edge.config import parse_config
from peerwatch_edge.edge import Edge


async def _offer() -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def test_session_limit_and_close_all(tmp_path: Path, video_path: Path) -> None:
    config = parse_config(
        {"data_dir": str(tmp_path), "cameras": [{"id": "c", "source": str(video_path)}]}
    )
    camera = Edge(config).cameras["c"]
    sessions = WebRtcSessions(max_sessions=2)
    clients = [await _offer() for _ in range(3)]
    try:
        for _pc, sdp in clients[:2]:
            answer = await sessions.answer(camera, sdp)
            assert answer.type == "answer"
            assert "m=video" in answer.sdp
        assert len(sessions) == 2
        with pytest.raises(ApiError) as refused:
            await sessions.answer(camera, clients[2][1])
        assert refused.value.status == 429
        assert len(sessions) == 2
        await sessions.close_all()
        assert len(sessions) == 0
        answer = await sessions.answer(camera, clients[2][1])  # room again
        assert answer.type == "answer"
    finally:
        await sessions.close_all()
        for pc, _sdp in clients:
            await pc.close()
        await asyncio.sleep(0.1)  # let aiortc's connect tasks see the closed transports
