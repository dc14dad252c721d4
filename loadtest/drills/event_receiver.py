"""A minimal webhook receiver for load tests: a raw ASGI app under uvicorn that answers
every POST with 200 (or 503 while paused) and counts the event ids it acknowledged.

Run: python -m loadtest.drills.event_receiver PORT   (GET /count, POST /pause, POST /resume)
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec
import uvicorn

_ids: list[bytes] = []
_paused = [False]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while True:  # read the body
        message = await receive()
        if not message.get("more_body"):
            break
    path, method = scope["path"], scope["method"]
    status, body = 200, b"ok"
    if method == "GET" and path == "/count":
        body = msgspec.json.encode({"received": len(_ids), "unique": len(set(_ids))})
    elif path in ("/pause", "/resume"):
        _paused[0] = path == "/pause"
    elif _paused[0]:
        status = 503
    else:
        headers = dict(scope["headers"])
        _ids.append(headers.get(b"x-rewards-event-id", b""))
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
