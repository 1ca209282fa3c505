"""Remote access: the edge's PeerJS client, WebRTC peer and DataChannel protocol.

`RemotePeer(config, name=…, devices=…, bus=…)`: `start()` after the local API, `stop()` before it;
`peer_id` and `registrar_status` feed `GET /api/v1/info`. Protocol: docs/remote-protocol.md.
"""

from .peer import RemotePeer

__all__ = ["RemotePeer"]
