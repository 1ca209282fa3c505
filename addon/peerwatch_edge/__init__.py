"""Peerwatch edge: cameras, TFLite detectors, event timeline, local API and WebRTC peer."""

__version__ = "0.1.0"
