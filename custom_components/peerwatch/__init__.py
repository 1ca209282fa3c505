"""Peerwatch: private AI camera detections from the Peerwatch edge in Home Assistant."""
