"""An aiohttp app served from its own thread and event loop, for the tests' small stand-ins."""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web


class ThreadedServer:
    """Subclasses add their routes in `routes(app)`; `self.port` (0 = any free port) is set on start."""

    port: int = 0

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def _serve(self, ready: threading.Event) -> None:
        app = web.Application()
        self.routes(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port or 0).start()
        self.port = runner.addresses[0][1]
        self._server_stop = asyncio.Event()
        ready.set()
        await self._server_stop.wait()
        await runner.cleanup()

    def start(self) -> None:
        ready = threading.Event()
        self._server_loop = asyncio.new_event_loop()
        self._server_thread = threading.Thread(
            target=self._server_loop.run_until_complete, args=(self._serve(ready),), daemon=True
        )
        self._server_thread.start()
        assert ready.wait(30), f"{type(self).__name__} did not start"

    def stop(self) -> None:
        loop, thread = getattr(self, "_server_loop", None), getattr(self, "_server_thread", None)
        if loop and thread and getattr(self, "_server_stop", None):
            loop.call_soon_threadsafe(self._server_stop.set)
            thread.join(30)
            loop.close()
