"""End-to-end delay of the handoff loop with the real processes (not a test).

Starts handoff_service, the action server and Rasa like the full-loop browser tests
(tests/browser/loop_servers.py), opens N customer conversations on Rasa's socket.io channel (the
widget's channel, session persistence on), sends 「转人工」 in all of them at once, lets one agent
(alice, with a websocket open on /api/ws) accept every case, then measures:

  (a) agent reply: POST /api/cases/{id}/messages sent → the text arrives as `bot_uttered` in that
      customer's socket.io client (handoff_service → Rasa HTTP API → socket.io push);
  (b) customer message: `user_uttered` emitted → `message.new` arrives on the agent's websocket
      (socket.io → Rasa NLU + handoff policy → action server → handoff_service → websocket).

Two load shapes, each direction: "steady" (one message every --interval seconds, round-robin over
the N conversations) and "burst" (all N conversations at the same instant, --rounds times).
Target: p95 <= 300 ms each way.

    .venv-handoff/bin/python bench/handoff_e2e.py [--conversations 20] [--rounds 5] [--interval 0.2]
                                                  [--client websocket|library]

The customers' socket.io client: by default a minimal socket.io v5 / engine.io v4 client over a
websocket (the transport the widget upgrades to), in this process; with --client library,
python-socketio 5.8 from Rasa's environment (.venv) in a child process (`--socketio-worker`),
which can only long-poll here (see socketio_worker). Times are CLOCK_MONOTONIC, shared by all
processes on Linux. The servers' logs are copied to var/artifacts/loop-logs/.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HANDOFF_TEXTS = ("转接人工客服", "暂时没有在线的客服")
MESSAGE_KEY = re.compile(r"\bq\d{4}\b")
TARGET_MS = 300.0


# ---------------------------------------------------------------- the socket.io side (runs in .venv)


async def socketio_worker(url: str, n: int, lang: str) -> None:
    """N customers on Rasa's socket.io channel with python-socketio 5.8 (--client library). Writes JSON
    lines to stdout (ready, bot, said); reads commands from stdin ({"cmd": "say", "sid", "text"},
    {"cmd": "quit"}). Long-polling only: the websocket transport of python-engineio 4.15.1 (installed
    with python-socketio 5.8 in .venv) calls aiohttp.ClientWSTimeout, which .venv's aiohttp 3.9.5
    does not have."""
    import socketio  # python-socketio 5.8, Rasa's environment

    def out(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    clients: dict[str, Any] = {}

    async def connect(i: int) -> None:
        client = socketio.AsyncClient(reconnection=False)
        session: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def on_confirm(data: Any) -> None:
            if not session.done():
                session.set_result(data)

        async def on_bot(data: Any) -> None:
            out(
                {
                    "ev": "bot",
                    "sid": session.result().split(".")[0],
                    "text": (data or {}).get("text"),
                    "t": time.monotonic(),
                }
            )

        client.on("session_confirm", on_confirm)
        client.on("bot_uttered", on_bot)
        await client.connect(url, socketio_path="/socket.io/", transports=["polling"])
        await client.emit("session_request", {"session_id": None})  # the server issues the session
        await asyncio.wait_for(asyncio.shield(session), 60)
        clients[session.result().split(".")[0]] = (client, session.result())

    await asyncio.gather(*(connect(i) for i in range(n)))
    out({"ev": "ready", "sids": list(clients)})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        t = time.monotonic()
        client, signed = clients[cmd["sid"]]
        await client.emit(
            "user_uttered", {"message": cmd["text"], "session_id": signed, "customData": {"language": lang}}
        )
        out({"ev": "said", "sid": cmd["sid"], "text": cmd["text"], "t": t})
    for client, _ in clients.values():
        await client.disconnect()


# ---------------------------------------------------------------- the measuring side (runs in .venv-handoff)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class Customers:
    """N customers on Rasa's socket.io channel: what they received (`bot`) and when they sent (`said`)."""

    def __init__(self) -> None:
        self.sids: list[str] = []
        self._waiters: list[tuple[Callable[[dict[str, Any]], bool], asyncio.Future]] = []
        self._seen: list[dict[str, Any]] = []

    def record(self, ev: dict[str, Any]) -> None:
        if ev["ev"] == "ready":
            self.sids = ev["sids"]
        self._seen.append(ev)
        for pred, fut in list(self._waiters):
            if not fut.done() and pred(ev):
                fut.set_result(ev)
                self._waiters.remove((pred, fut))

    async def wait(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 120) -> dict[str, Any]:
        for ev in self._seen:
            if pred(ev):
                return ev
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        return await asyncio.wait_for(fut, timeout)

    async def start(self) -> None:
        raise NotImplementedError

    async def say(self, sid: str, text: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class WebsocketCustomers(Customers):
    """--client websocket (default): the socket.io v5 / engine.io v4 protocol over a websocket, the
    transport the widget settles on, written out minimally on aiohttp (open → "40" connect →
    "42[event, data]" packets; answers the server's "2" pings with "3")."""

    def __init__(self, url: str, n: int, lang: str) -> None:
        super().__init__()
        self.url, self.n, self.lang = url, n, lang
        self.sockets: dict[str, Any] = {}
        self.signed: dict[str, str] = {}  # conversation id -> the session the server issued
        self.tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession()
        ws_url = self.url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"

        async def connect(i: int) -> str:
            ws = await self.session.ws_connect(ws_url)
            opened = await ws.receive_str(timeout=60)
            assert opened.startswith("0"), opened  # engine.io open packet
            await ws.send_str("40")  # socket.io connect to the default namespace
            connected = await ws.receive_str(timeout=60)
            assert connected.startswith("40"), connected
            confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self.tasks.append(asyncio.create_task(self._read(ws, confirmed)))
            # the server issues the session; its first part is the conversation id
            await ws.send_str("42" + json.dumps(["session_request", {"session_id": None}]))
            signed = await asyncio.wait_for(asyncio.shield(confirmed), 60)
            sid = signed.split(".")[0]
            self.sockets[sid] = ws
            self.signed[sid] = signed
            return sid

        sids = await asyncio.gather(*(connect(i) for i in range(self.n)))
        self.record({"ev": "ready", "sids": list(sids)})

    async def _read(self, ws: Any, confirmed: asyncio.Future[str]) -> None:
        async for msg in ws:
            t = time.monotonic()
            data = msg.data
            if not isinstance(data, str):
                continue
            if data == "2":
                await ws.send_str("3")
            elif data.startswith("42"):
                name, *args = json.loads(data[2:])
                if name == "session_confirm" and not confirmed.done():
                    confirmed.set_result(args[0])
                elif name == "bot_uttered":
                    sid = confirmed.result().split(".")[0]
                    self.record({"ev": "bot", "sid": sid, "text": (args[0] or {}).get("text"), "t": t})

    async def say(self, sid: str, text: str) -> None:
        t = time.monotonic()
        await self.sockets[sid].send_str(
            "42"
            + json.dumps(
                [
                    "user_uttered",
                    {"message": text, "session_id": self.signed[sid], "customData": {"language": self.lang}},
                ]
            )
        )
        self.record({"ev": "said", "sid": sid, "text": text, "t": t})

    async def close(self) -> None:
        for ws in self.sockets.values():
            await ws.close()
        for task in self.tasks:
            task.cancel()
        await self.session.close()


class LibraryCustomers(Customers):
    """--client library: python-socketio 5.8 from Rasa's environment, in a child process
    (`--socketio-worker`), long-polling (see socketio_worker)."""

    def __init__(self, url: str, n: int, lang: str) -> None:
        super().__init__()
        self.url, self.n, self.lang = url, n, lang

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            str(REPO / ".venv" / "bin" / "python"),
            str(Path(__file__).resolve()),
            "--socketio-worker",
            self.url,
            str(self.n),
            self.lang,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")},
        )
        self.pump = asyncio.create_task(self._pump())
        await self.wait(lambda e: e["ev"] == "ready")

    async def _pump(self) -> None:
        assert self.proc.stdout
        while line := await self.proc.stdout.readline():
            self.record(json.loads(line))

    async def say(self, sid: str, text: str) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(
            (json.dumps({"cmd": "say", "sid": sid, "text": text}, ensure_ascii=False) + "\n").encode()
        )
        await self.proc.stdin.drain()
        await self.wait(lambda e: e["ev"] == "said" and e["text"] == text)

    async def close(self) -> None:
        if self.proc.returncode is None and self.proc.stdin:
            self.proc.stdin.write(b'{"cmd": "quit"}\n')
            await self.proc.stdin.drain()
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.pump.cancel()


async def run(args: argparse.Namespace, servers: Any) -> dict[str, list[float]]:
    import aiohttp

    n = args.conversations
    results: dict[str, list[float]] = {}
    ws_waiters: dict[str, asyncio.Future] = {}
    token = servers.agent_tokens["alice"]
    auth = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        # the agent is online before the customers arrive (the bot then tells them their position)
        ws = await http.ws_connect(f"{servers.url}/api/ws", headers=auth, heartbeat=30)

        async def ws_pump() -> None:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                t = time.monotonic()
                ev = json.loads(msg.data)
                if ev.get("type") == "message.new" and ev["message"]["direction"] == "customer":
                    m = MESSAGE_KEY.search(ev["message"]["text"])
                    if m:
                        fut = ws_waiters.pop(m.group(0), None)
                        if fut and not fut.done():
                            fut.set_result(t)

        ws_task = asyncio.create_task(ws_pump())
        cls = WebsocketCustomers if args.client == "websocket" else LibraryCustomers
        customers = cls(servers.rasa_url, n, "zh")
        try:
            await customers.start()
            sids = customers.sids
            # every conversation asks for a person at once
            await asyncio.gather(*(customers.say(sid, "转人工") for sid in sids))
            await asyncio.gather(
                *(
                    customers.wait(
                        lambda e, s=sid: e["ev"] == "bot"
                        and e["sid"] == s
                        and any(h in (e.get("text") or "") for h in HANDOFF_TEXTS)
                    )
                    for sid in sids
                )
            )
            async with http.get(f"{servers.url}/api/queue", params={"limit": "200"}, headers=auth) as r:
                queue = {c["number"]: c["id"] for c in (await r.json())["cases"]}
            case_ids: dict[str, int] = {}
            for sid in sids:
                async with http.get(
                    f"{servers.rasa_url}/conversations/{sid}/tracker", params={"token": servers.rasa_token}
                ) as r:
                    case_ids[sid] = queue[(await r.json())["slots"]["case_number"]]
            for sid in sids:  # the agent accepts all of them
                async with http.post(f"{servers.url}/api/cases/{case_ids[sid]}/accept", headers=auth) as r:
                    assert r.status == 200, await r.text()
            print(f"{n} conversations in handoff, all accepted by alice; measuring...", file=sys.stderr)

            async def reply(r: int, i: int, sid: str) -> float:
                key = f"a{r:02d}{i:02d}"
                arrived = customers.wait(
                    lambda e: e["ev"] == "bot" and e["sid"] == sid and key in (e.get("text") or "")
                )
                task = asyncio.create_task(arrived)
                t0 = time.monotonic()
                async with http.post(
                    f"{servers.url}/api/cases/{case_ids[sid]}/messages",
                    headers=auth,
                    json={"text": f"正在为您处理 {key} ，请稍等"},
                ) as resp:
                    assert resp.status in (200, 201), await resp.text()
                return ((await task)["t"] - t0) * 1000

            async def message(r: int, i: int, sid: str) -> float:
                key = f"q{r:02d}{i:02d}"
                text = f"进度 {key} 怎么样了"
                fut = asyncio.get_running_loop().create_future()
                ws_waiters[key] = fut
                await customers.say(sid, text)
                said = await customers.wait(lambda e: e["ev"] == "said" and e["text"] == text)
                t1 = await asyncio.wait_for(fut, 120)
                return (t1 - said["t"]) * 1000

            async def steady(fn: Callable[[int, int, str], Any], first_round: int) -> list[float]:
                tasks = []
                for r in range(args.rounds):
                    for i, sid in enumerate(sids):
                        tasks.append(asyncio.create_task(fn(first_round + r, i, sid)))
                        await asyncio.sleep(args.interval)
                return list(await asyncio.gather(*tasks))

            async def burst(fn: Callable[[int, int, str], Any], first_round: int) -> list[float]:
                out: list[float] = []
                for r in range(args.rounds):
                    out += await asyncio.gather(*(fn(first_round + r, i, sid) for i, sid in enumerate(sids)))
                return out

            # warm-up (not measured): one of each per conversation
            await asyncio.gather(*(reply(0, i, sid) for i, sid in enumerate(sids)))
            await asyncio.gather(*(message(0, i, sid) for i, sid in enumerate(sids)))
            results["(a) agent reply → customer socket.io, steady"] = await steady(reply, 1)
            results["(b) customer message → agent websocket, steady"] = await steady(message, 1)
            results["(a) agent reply → customer socket.io, burst"] = await burst(reply, 1 + args.rounds)
            results["(b) customer message → agent websocket, burst"] = await burst(message, 1 + args.rounds)
        finally:
            await customers.close()
            await ws.close()
            ws_task.cancel()
    return results


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    mem = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rasa_py = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-V"], capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{platform.node()} · {cpu} · {os.cpu_count()} cores · {mem / 1024 / 1024:.1f} GiB · "
        f"{platform.system()} {platform.release()}\n"
        f"load average at the end {load} · handoff_service {platform.python_implementation()} "
        f"{platform.python_version()} · Rasa/actions {rasa_py}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--socketio-worker":
        asyncio.run(socketio_worker(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "zh"))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="messages per conversation and direction, per load shape")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between two messages in the steady shape")
    parser.add_argument(
        "--client",
        choices=("websocket", "library"),
        default="websocket",
        help="socket.io client: minimal websocket client (default) or python-socketio 5.8 (polling)",
    )
    parser.add_argument("--model", help="model archive (default: what .ci/train.sh prints)")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO / "tests" / "browser"))
    sys.path.insert(0, str(REPO))  # loop_servers signs as the messaging gateway (bot.identity)
    from loop_servers import LoopServers  # noqa: E402

    started = dt.datetime.now(dt.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="handoff-e2e-") as tmp:
        servers = LoopServers(Path(tmp), Path(args.model).resolve() if args.model else None)
        t0 = time.monotonic()
        print(
            "starting handoff_service, action server and Rasa (trains first if the model is not current)...",
            file=sys.stderr,
        )
        servers.start()
        print(f"started in {time.monotonic() - t0:.0f} s", file=sys.stderr)
        try:
            results = asyncio.run(run(args, servers))
        finally:
            servers.stop()

    print(f"\nhandoff loop end to end — {started:%Y-%m-%d %H:%M} UTC")
    print(machine())
    print(
        f"{args.conversations} conversations in handoff at once, one agent; steady = one message every "
        f"{args.interval * 1000:.0f} ms round-robin ({1 / args.interval:.1f} msg/s), burst = all "
        f"{args.conversations} at once; {args.rounds} rounds each; customers' socket.io client: "
        f"{'websocket transport' if args.client == 'websocket' else 'python-socketio 5.8, long-polling'}\n"
    )
    head = f"{'measure':50} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target p95 ≤ {TARGET_MS:.0f} ms"
    print(head)
    print("-" * len(head))
    for name, values in results.items():
        p95 = pct(values, 95)
        verdict = "met" if p95 <= TARGET_MS else "NOT met"
        print(f"{name:50} {len(values):>4} {pct(values, 50):>8.1f} {p95:>8.1f} {max(values):>8.1f}  {verdict}")


if __name__ == "__main__":
    main()
