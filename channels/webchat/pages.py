"""The web chat's static side: the /try page and the widget's script and styles."""

from __future__ import annotations

import html
from pathlib import Path
from string import Template

from aiohttp import web

STATIC = Path(__file__).parent / "static"
WIDGET_FILES = {
    "/webchat/widget.js": ("webchat.js", "text/javascript"),
    "/webchat/widget.css": ("webchat.css", "text/css"),
    "/webchat/try.css": ("try.css", "text/css"),
}
"""URL path -> (file in bot/static, content type)."""
_TRY_CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)


class WebChatPages:
    """Serves the /try page and the widget files, read once at start."""

    def __init__(self, business_name: str, public_base_url: str | None) -> None:
        self._business_name = business_name
        self._public_base_url = public_base_url
        self._files = {
            path: ((STATIC / name).read_bytes(), kind)
            for path, (name, kind) in WIDGET_FILES.items()
        }
        self._page = Template((STATIC / "try.html").read_text(encoding="utf-8"))

    async def try_page(self, request: web.Request) -> web.Response:
        """The /try page, pointing the widget at this server's public address."""
        base = (self._public_base_url or f"{request.scheme}://{request.host}").rstrip("/")
        body = self._page.substitute(
            business=html.escape(self._business_name), base=html.escape(base, quote=True)
        )
        headers = {"Content-Security-Policy": _TRY_CSP, "X-Content-Type-Options": "nosniff"}
        return web.Response(text=body, content_type="text/html", headers=headers)

    async def static(self, request: web.Request) -> web.Response:
        """One of the widget's files."""
        body, kind = self._files[request.path]
        headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
        return web.Response(body=body, content_type=kind, charset="utf-8", headers=headers)
