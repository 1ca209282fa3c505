"""The Home Assistant ingress panel: the PWA's built files, with the ingress base path applied."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Final

from aiohttp import web

INGRESS_PATH_RE: Final = re.compile(r"^/[A-Za-z0-9/_.-]{0,200}$")
SERVED_BY_EDGE: Final = '<meta name="peerwatch-served-by" content="edge">'
"""Tells the app it runs in the ingress panel (its API is this page's origin), so the app
served by a registrar never asks that origin for an edge API it does not have."""
PWA_DIR: Final = web.AppKey("peerwatch_pwa_dir", Path)

NOT_BUILT: Final = """<!doctype html>
<html><head><meta charset="utf-8"><title>Peerwatch</title></head>
<body style="font-family: sans-serif; margin: 2em">
<h1>Peerwatch: the user interface is not built</h1>
<p>The edge is running and its API answers, but the web app files are missing from
<code>{path}</code>. Build them with <code>npm run build</code> in <code>pwa/</code> (the add-on
image does this for you), or set <code>PEERWATCH_PWA_DIR</code> to the built folder.</p>
</body></html>
"""


def _base_tag(request: web.Request) -> str:
    prefix = request.headers.get("X-Ingress-Path", "")
    if not INGRESS_PATH_RE.match(prefix):
        prefix = ""
    return f'<base href="{prefix.rstrip("/")}/">'


async def _read(path: Path) -> str | None:
    try:
        return await asyncio.to_thread(path.read_text, encoding="utf-8")
    except OSError:
        return None


async def index(request: web.Request) -> web.Response:
    """`index.html` with a `<base>` at the ingress path and SERVED_BY_EDGE, or a 503 page when
    not built."""
    root = request.app[PWA_DIR]
    html = await _read(root / "index.html")
    if html is None:
        page = NOT_BUILT.format(path=root)
        return web.Response(text=page, status=503, content_type="text/html")
    html = html.replace("<head>", f"<head>{_base_tag(request)}{SERVED_BY_EDGE}", 1)
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-cache"})


async def static_file(request: web.Request) -> web.StreamResponse:
    """Another built file (JS, CSS, icons...), never outside the build folder."""
    root = request.app[PWA_DIR].resolve()
    try:
        target = (root / request.match_info["path"]).resolve()
        found = target.is_relative_to(root) and await asyncio.to_thread(target.is_file)
    except (OSError, ValueError):  # a NUL byte or a name too long is no file of ours
        found = False
    if not found:
        raise web.HTTPNotFound
    if target.name == "index.html":
        return await index(request)
    return web.FileResponse(target)


def add_routes(app: web.Application, pwa_dir: Path) -> None:
    """Serve the PWA at `/` (after the API routes, which take precedence)."""
    app[PWA_DIR] = pwa_dir
    app.router.add_get("/", index)
    app.router.add_get("/{path:(?!api/).+}", static_file)
