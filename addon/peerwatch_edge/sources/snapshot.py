"""An HTTP(S) snapshot URL polled at the camera's rate."""

from __future__ import annotations

import base64
import io
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Final
from urllib.parse import unquote, urlsplit, urlunsplit

import numpy as np
from PIL import Image

from ..imaging import Picture
from .base import FrameSource, SourceError, redact

MAX_BYTES: Final = 20 * 1024 * 1024


class SnapshotSource(FrameSource):
    """GET a JPEG/PNG every 1/fps seconds."""

    def __init__(self, url: str, fps: float, *, timeout: float = 10.0) -> None:
        super().__init__(url, fps)
        self.timeout = timeout

    def request(self) -> urllib.request.Request:
        """The GET request, with the URL's user:password sent as HTTP basic auth."""
        parts = urlsplit(self.url)
        headers = {}
        if parts.username is not None:
            secret = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
        netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return urllib.request.Request(urlunsplit(parts._replace(netloc=netloc)), headers=headers)  # noqa: S310

    def fetch(self) -> np.ndarray:
        """Fetch and decode one snapshot."""
        shown = redact(self.url)
        try:
            with urllib.request.urlopen(self.request(), timeout=self.timeout) as response:  # noqa: S310
                data = response.read(MAX_BYTES + 1)
        except (urllib.error.URLError, OSError) as err:
            msg = f"snapshot {shown} failed: {err}"
            raise SourceError(msg) from err
        if len(data) > MAX_BYTES:
            msg = f"snapshot {shown} is larger than {MAX_BYTES} bytes"
            raise SourceError(msg)
        try:
            with Image.open(io.BytesIO(data)) as image:
                return np.asarray(image.convert("RGB"))
        except (OSError, ValueError, Image.DecompressionBombError) as err:
            self.decode_errors += 1
            msg = f"snapshot {shown} is not an image: {err}"
            raise SourceError(msg) from err

    def frames(self, stop: threading.Event) -> Iterator[Picture]:
        """Poll until stopped; raise on the first failure (the camera backs off and retries)."""
        period = 1.0 / self.fps
        while not stop.is_set():
            started = time.monotonic()
            yield Picture(self.fetch())
            stop.wait(max(0.0, period - (time.monotonic() - started)))
