"""TFLite detectors: objects, faces, falls."""
