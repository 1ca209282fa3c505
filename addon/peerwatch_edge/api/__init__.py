"""The edge's local API (`/api/v1`), for Home Assistant, the ingress panel and the PWA."""

from .server import ApiOptions, ApiServer, build_app
from .state import ApiState, RemoteStatus

__all__ = ["ApiOptions", "ApiServer", "ApiState", "RemoteStatus", "build_app"]
