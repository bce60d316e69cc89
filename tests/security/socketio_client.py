"""A minimal socket.io client (Engine.IO 4 over a websocket, default namespace) on aiohttp, so the
attack suite can choose every header and every event it sends, as a hostile client would."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp


class SocketIOClient:
    def __init__(self, base_url: str, *, origin: str | None = None, path: str = "/socket.io/") -> None:
        self.url = base_url.replace("http", "ws", 1).rstrip("/") + path + "?EIO=4&transport=websocket"
        self.origin = origin
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    async def connect(self) -> None:
        """Opens the socket and joins the default namespace; raises when the server refuses either."""
        self._session = aiohttp.ClientSession()
        headers = {"Origin": self.origin} if self.origin else {}
        self._ws = await self._session.ws_connect(
            self.url, headers=headers, timeout=aiohttp.ClientWSTimeout(ws_close=10)
        )
        opened = await self._ws.receive_str(timeout=10)
        assert opened.startswith("0"), opened
        await self._ws.send_str("40")
        joined = await self._ws.receive_str(timeout=10)
        if not joined.startswith("40"):
            raise ConnectionRefusedError(joined)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        async for frame in self._ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            data = frame.data
            if data == "2":  # ping
                await self._ws.send_str("3")
            elif data.startswith("42"):
                name, *args = json.loads(data[2:])
                await self.events.put((name, args[0] if args else None))
            elif data.startswith("41"):  # the server left the namespace
                break
        self.closed.set()

    async def emit(self, event: str, data: Any) -> None:
        assert self._ws is not None
        await self._ws.send_str("42" + json.dumps([event, data]))

    async def next_event(self, name: str, timeout: float = 30) -> Any:
        """The data of the next `name` event (others are dropped); TimeoutError if none comes."""
        async with asyncio.timeout(timeout):
            while True:
                got, data = await self.events.get()
                if got == name:
                    return data

    async def collect(self, name: str, seconds: float) -> list[Any]:
        """Every `name` event within `seconds`."""
        found: list[Any] = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    got, data = await self.events.get()
                    if got == name:
                        found.append(data)
        except TimeoutError:
            return found

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
