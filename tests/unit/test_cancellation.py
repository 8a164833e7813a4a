"""The disconnect listener (web/cancellation.py): what the application receives, and when."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from openblotter.domain.checkpoints import checkpoint
from openblotter.storage.budget import Cancelled
from openblotter.web.cancellation import GONE, INBOX_SIZE, CancelOnDisconnect

Message = dict[str, Any]


def _run(app: Any, receive: Any) -> None:
    """Run one request through ``app`` on an event loop of its own thread: an earlier test
    (Playwright's sync API) can leave a running loop in this one, where asyncio.run refuses."""

    async def send(message: Message) -> None:
        pass

    failed: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(asyncio.wait_for(app({"type": "http"}, receive, send), timeout=10))
        except BaseException as exc:  # raised again on the test's thread
            failed.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive()
    if failed:
        raise failed[0]


def test_the_application_reads_the_body_then_hears_the_client_leave() -> None:
    chunks = [{"type": "http.request", "body": b"a", "more_body": True},
              {"type": "http.request", "body": b"b", "more_body": False}]  # fmt: skip
    gone = asyncio.Event()
    heard: list[Message] = []

    async def receive() -> Message:
        if chunks:
            return chunks.pop(0)
        await gone.wait()
        return {"type": "http.disconnect"}

    async def endpoint(scope: Message, app_receive: Any, send: Any) -> None:
        heard.extend([await app_receive(), await app_receive()])
        gone.set()
        heard.extend([await app_receive(), await app_receive()])  # said again, never a hang
        with pytest.raises(Cancelled):  # the request's token was cancelled
            checkpoint()

    _run(CancelOnDisconnect(endpoint), receive)
    assert [m.get("body") for m in heard[:2]] == [b"a", b"b"]
    assert heard[2:] == [GONE, GONE]


def test_a_failed_receive_wakes_the_application_with_a_disconnect() -> None:
    sent: list[Message] = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        if sent:
            return sent.pop()
        await asyncio.sleep(0.05)
        raise OSError("connection reset")

    heard: list[Message] = []

    async def endpoint(scope: Message, app_receive: Any, send: Any) -> None:
        heard.append(await app_receive())
        heard.append(await app_receive())  # waiting when the listener fails

    _run(CancelOnDisconnect(endpoint), receive)
    assert heard[1] == GONE


def test_the_listener_reads_only_a_few_messages_ahead_of_the_application() -> None:
    read = 0

    async def receive() -> Message:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    async def endpoint(scope: Message, app_receive: Any, send: Any) -> None:
        await asyncio.sleep(0.2)  # a slow application: the body waits in the client's socket

    _run(CancelOnDisconnect(endpoint), receive)
    assert read <= INBOX_SIZE + 1
