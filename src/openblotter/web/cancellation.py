"""Stop a request's queries when its client goes away (ASGI middleware).

The server tells an application that the client disconnected with an
``http.disconnect`` message on ``receive``. This middleware listens for it
beside the application and cancels the request's token
(:func:`services.query.cancellable_request`): DuckDB stops the request's
running query, a streamed download stops at its next batch, and an analysis
stops at its next checkpoint (which also stops it once ``time_limit`` passed).
"""

from __future__ import annotations

from typing import Any

import anyio

from openblotter.services.query import cancellable_request

Message = dict[str, Any]


class CancelOnDisconnect:
    """Wraps an ASGI app; every HTTP request gets a cancellation token."""

    def __init__(self, app: Any, time_limit: float | None = None) -> None:
        self.app = app
        self.time_limit = time_limit

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        inbox_send, inbox = anyio.create_memory_object_stream[Message](16)
        with cancellable_request(self.time_limit) as request:

            async def listen() -> None:
                async with inbox_send:
                    while True:
                        message = await receive()
                        await inbox_send.send(message)
                        if message["type"] == "http.disconnect":
                            request.cancel()
                            return

            async def app_receive() -> Message:
                try:
                    return await inbox.receive()
                except anyio.EndOfStream:  # the client is gone: say so again, as servers do
                    return {"type": "http.disconnect"}

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(listen)
                try:
                    await self.app(scope, app_receive, send)
                finally:
                    tasks.cancel_scope.cancel()
