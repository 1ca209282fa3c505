"""Peerwatch registrar: stateless PeerJS-compatible signaling with plug-and-play rooms."""

__version__ = "0.1.0"
