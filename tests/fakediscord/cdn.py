"""The CDN: attachments stored with messages, served (ranges included) at their URLs.

Part of ``FakeDiscord`` (server.py): a mixin over the state set up in its ``__init__``."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).

from __future__ import annotations

from typing import Any

from aiohttp import web


class CdnMixin:
    """The CDN: attachments stored with messages, served (ranges included) at their URLs."""

    def attachment_bytes(self, attachment_id: int) -> bytes:
        return self._attachments[attachment_id][1]

    def _wire_attachment(self, attachment: dict[str, Any]) -> dict[str, Any]:
        wire = {
            "id": str(attachment["id"]),
            "filename": attachment["filename"],
            "size": attachment["size"],
            "url": attachment["url"],
            "proxy_url": attachment["proxy_url"],
            "content_type": attachment["content_type"],
        }
        if attachment.get("description") is not None:
            wire["description"] = attachment["description"]
        if attachment.get("ephemeral"):
            wire["ephemeral"] = True
        return wire

    def _store_attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str,
        *,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> dict[str, Any]:
        attachment_id = self.snowflake()
        self._attachments[attachment_id] = (filename, data, content_type)
        url = f"{self.url}/attachments/{attachment_id}/{filename}"
        return {
            "id": attachment_id,
            "filename": filename,
            "size": len(data),
            "content_type": content_type,
            "data": data,
            "url": url,
            "proxy_url": url,
            "description": description,
            "ephemeral": ephemeral,
        }

    async def _h_attachment(self, request: web.Request) -> web.Response:
        try:
            attachment_id = int(request.match_info["attachment_id"])
            filename, data, content_type = self._attachments[attachment_id]
        except (KeyError, ValueError):
            return web.Response(status=404, text="Not Found")
        if filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        # Discord's CDN answers range requests (206), as the bot's reads of audio rely on.
        try:
            span = request.http_range
        except ValueError:
            return web.Response(status=416, text="Range Not Satisfiable")
        start, stop, _ = span.indices(len(data))
        if (span.start is None and span.stop is None) or start >= stop:
            self.attachment_reads.append((attachment_id, 0, len(data)))
            return web.Response(body=data, headers={"Content-Type": content_type})
        self.attachment_reads.append((attachment_id, start, stop - start))
        headers = {
            "Content-Type": content_type,
            "Content-Range": f"bytes {start}-{stop - 1}/{len(data)}",
        }
        return web.Response(status=206, body=data[start:stop], headers=headers)
