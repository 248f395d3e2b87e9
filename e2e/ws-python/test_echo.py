"""Interop: Python `websockets` (asyncio client) against the sockio-ws echo server.

Run: e2e/ws-python/run   (or: target/e2e-venv/bin/python -m pytest e2e/ws-python)

The server is started once per module:
  * default: <repo>/target/release/examples/echo_server 127.0.0.1:0
  * override: env ECHO_SERVER_CMD, a complete command line run through bash
    (relative paths resolve against the repository root).
It must print ``listening on HOST:PORT`` on stdout once bound. It is stopped by
its PID (SIGTERM, then SIGKILL) at the end of the module.

Tests are plain pytest functions that drive asyncio with ``asyncio.run`` and
bound every test with ``asyncio.wait_for`` (no pytest plugins needed).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import os
import queue
import re
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = ROOT / "target" / "release" / "examples" / "echo_server"
MiB = 1024 * 1024
MAX_SIZE = 32 * MiB
T_SHORT = 10.0
T_LONG = 90.0


# --------------------------------------------------------------------------
# server under test


@dataclass
class Server:
    url: str
    host: str
    port: int
    proc: subprocess.Popen
    log: collections.deque

    def output(self) -> str:
        return "\n".join(self.log)


def server_command() -> str:
    override = os.environ.get("ECHO_SERVER_CMD", "").strip()
    if override:
        return override
    return f"{shlex.quote(str(DEFAULT_BIN))} 127.0.0.1:0"


def start_server(extra_args: list[str] | None = None, start_timeout: float = 30.0) -> Server:
    if not os.environ.get("ECHO_SERVER_CMD", "").strip() and not DEFAULT_BIN.exists():
        pytest.fail(
            f"echo server binary not found at {DEFAULT_BIN}; build it with "
            "`cargo build --release -p sockio-ws --example echo_server` or set ECHO_SERVER_CMD"
        )
    cmd = " ".join([server_command(), *(shlex.quote(a) for a in extra_args or [])])
    proc = subprocess.Popen(
        ["bash", "-c", f"exec {cmd}"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    log: collections.deque = collections.deque(maxlen=200)
    lines: queue.Queue = queue.Queue()

    def pump(stream, name: str, forward: bool) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            log.append(f"[{name}] {line}")
            if forward:
                lines.put(line)
        if forward:
            lines.put(None)

    threading.Thread(target=pump, args=(proc.stdout, "stdout", True), daemon=True).start()
    threading.Thread(target=pump, args=(proc.stderr, "stderr", False), daemon=True).start()

    def fail(why: str):
        stop_server(proc)
        out = "\n".join(log)
        pytest.fail(f"{why}\ncmd: {cmd}\n{out}", pytrace=False)

    end = time.monotonic() + start_timeout
    while True:
        remaining = end - time.monotonic()
        if remaining <= 0:
            fail(f'echo server did not print "listening on" within {start_timeout} s')
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            proc.wait(timeout=5)
            fail(f"echo server exited early with status {proc.returncode}")
        m = re.search(r"listening on (\S+):(\d+)\s*$", line)
        if m:
            host, port = m[1], int(m[2])
            break
    url_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return Server(url=f"ws://{url_host}:{port}/", host=host, port=port, proc=proc, log=log)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # SIGTERM to our own child's PID
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="module")
def server():
    srv = start_server()
    yield srv
    stop_server(srv.proc)


# --------------------------------------------------------------------------
# client configurations

MODES = {
    "none": dict(compression=None),
    # websockets' default offer: permessage-deflate; client_max_window_bits
    "deflate": dict(compression="deflate"),
    "deflate-no-context-takeover": dict(
        compression="deflate",
        extensions=[
            ClientPerMessageDeflateFactory(
                server_no_context_takeover=True,
                client_no_context_takeover=True,
                compress_settings={"memLevel": 5},
            )
        ],
    ),
}


@pytest.fixture(params=list(MODES))
def mode(request):
    return request.param


def extensions_header(ws: ClientConnection) -> str:
    return ws.response.headers.get("Sec-WebSocket-Extensions", "")


def check_negotiation(ws: ClientConnection, mode: str) -> None:
    header = extensions_header(ws)
    if mode == "none":
        assert header == "", f"server answered with extensions it was not offered: {header!r}"
        assert not ws.protocol.extensions
    else:
        assert re.match(r"\s*permessage-deflate\b", header), f"deflate not negotiated: {header!r}"
        assert [e.name for e in ws.protocol.extensions] == ["permessage-deflate"]
        if mode == "deflate-no-context-takeover":
            # RFC 7692 7.1.1.1: accepting server_no_context_takeover means echoing it.
            assert "server_no_context_takeover" in header, header


def open_client(server: Server, mode: str, **kwargs):
    opts = dict(MODES[mode])
    opts.update(kwargs)
    return connect(
        server.url,
        max_size=MAX_SIZE,
        ping_interval=None,
        open_timeout=T_SHORT,
        close_timeout=T_SHORT,
        **opts,
    )


def run(coro, timeout: float = T_SHORT):
    """Run one test coroutine on a fresh event loop, bounded by `timeout`."""

    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def ascii_text(n: int) -> str:
    """ASCII text of exactly n bytes (random, so poorly compressible)."""
    return base64.b64encode(os.urandom(n * 3 // 4 + 3)).decode("ascii")[:n]


def assert_same(actual, expected, what: str = "echo") -> None:
    assert type(actual) is type(expected), f"{what}: got {type(actual).__name__}, sent {type(expected).__name__}"
    assert len(actual) == len(expected), f"{what}: length {len(actual)} != {len(expected)}"
    if actual != expected:
        i = next(i for i, (a, b) in enumerate(zip(actual, expected)) if a != b)
        pytest.fail(f"{what}: contents differ first at index {i} of {len(expected)}")


def assert_echoed_reason(got: str, sent: str) -> None:
    # RFC 6455 5.5.1 / 7.1.5: the answer to a close frame typically echoes the
    # status code; echoing the reason is optional. Accept the same reason or none.
    assert got in (sent, ""), f"close reason: got {got!r}, sent {sent!r}"


async def echo(ws: ClientConnection, message, timeout: float = T_SHORT) -> None:
    await ws.send(message)
    got = await asyncio.wait_for(ws.recv(), timeout)
    assert_same(got, message)


# --------------------------------------------------------------------------
# tests


def test_handshake_negotiation(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            check_negotiation(ws, mode)

    run(t())


def test_text_echo(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            await echo(ws, "hello, sockio")
            await echo(ws, "a second message on the same connection")

    run(t())


def test_binary_echo(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            await echo(ws, bytes([0, 1, 2, 3, 0xFE, 0xFF]))
            await echo(ws, os.urandom(1000))

    run(t())


def test_empty_text(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            await echo(ws, "")

    run(t())


def test_empty_binary(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            await echo(ws, b"")

    run(t())


SIZES = [125, 126, 127, 65535, 65536, 65537, 16 * MiB]


@pytest.mark.parametrize("size", SIZES, ids=lambda n: f"{n // MiB}MiB" if n >= MiB else f"{n}B")
@pytest.mark.parametrize("kind", ["text", "binary"])
def test_sizes(server, mode, kind, size):
    timeout = T_LONG if size >= MiB else T_SHORT
    message = ascii_text(size) if kind == "text" else os.urandom(size)

    async def t():
        async with open_client(server, mode) as ws:
            await echo(ws, message, timeout)

    run(t(), timeout)


def test_compressible_1mib(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            await echo(ws, ("sockio " * (MiB // 7 + 1))[:MiB], T_LONG)
            await echo(ws, b"a" * MiB, T_LONG)

    run(t(), T_LONG)


def test_unicode_text(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            await echo(ws, "héllo wörld — ünïcödé ✓ 日本語テキスト 🚀🦀 \x00 nul and \ufffd")
            await echo(ws, "€" * 42)  # 126 bytes: first 16-bit length
            await echo(ws, "𝄞" * 20000)  # 80000 bytes of 4-byte sequences

    run(t())


def test_empty_messages_between_non_empty(server, mode):
    # With context takeover, an empty compressed message must still be a valid
    # DEFLATE block (RFC 7692 7.2.3.6: payload 0x00), not an empty payload, or
    # the peer's inflater desynchronises.
    async def t():
        async with open_client(server, mode) as ws:
            for msg in ["a", "", "b", b"", b"c", "", "", b"", "d" * 200]:
                await echo(ws, msg)

    run(t())


def test_order_and_types_preserved(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            sent = []
            for i in range(50):
                msg = os.urandom(i * 37) if i % 3 == 0 else f"message #{i} " + "x" * (i * 11)
                sent.append(msg)
                await ws.send(msg)
            for i, msg in enumerate(sent):
                assert_same(await ws.recv(), msg, f"message {i}")

    run(t())


# fragmentation --------------------------------------------------------------


def test_fragmented_text(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            await ws.send(["Hello, ", "fragmented ", "world"])
            assert_same(await ws.recv(), "Hello, fragmented world")

    run(t())


def test_fragmented_binary_length_forms(server, mode):
    parts = [os.urandom(10), os.urandom(300), os.urandom(70000), os.urandom(1)]

    async def t():
        async with open_client(server, mode) as ws:
            await ws.send(parts)
            assert_same(await ws.recv(), b"".join(parts))

    run(t())


def test_fragmented_utf8_split_inside_code_points(server, mode):
    full = "price: 5€ 🚀".encode()
    euro, rocket = full.index(0xE2), full.index(0xF0)
    cuts = [0, euro + 1, euro + 2, rocket + 1, rocket + 3, len(full)]
    parts = [full[a:b] for a, b in zip(cuts, cuts[1:])]

    async def t():
        async with open_client(server, mode) as ws:
            await ws.send(parts, text=True)
            assert_same(await ws.recv(), full.decode())

    run(t())


def test_fragmented_empty_first_and_last(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            await ws.send(["", "abc", ""])
            assert_same(await ws.recv(), "abc")

    run(t())


def test_ping_interleaved_between_fragments(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            waiters = []

            async def fragments():
                yield "before-ping "
                waiters.append(await ws.ping(b"mid-message"))
                yield "after-ping"

            await ws.send(fragments())
            await asyncio.wait_for(waiters[0], T_SHORT)
            assert_same(await ws.recv(), "before-ping after-ping")

    run(t())


# ping / pong ----------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"ping-payload-123", b"", bytes(range(125))],
    ids=["text-payload", "empty", "125-bytes"],
)
def test_ping_pong_same_payload(server, mode, payload):
    async def t():
        async with open_client(server, mode) as ws:
            # websockets only completes the waiter for a pong whose payload
            # equals the ping's, so a wrong payload ends in a timeout.
            waiter = await ws.ping(payload)
            await asyncio.wait_for(waiter, T_SHORT)

    run(t())


def test_several_pings_answered(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            waiters = [await ws.ping(f"p{i}".encode()) for i in range(5)]
            await asyncio.wait_for(asyncio.gather(*waiters), T_SHORT)

    run(t())


def test_unsolicited_pong_ignored(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            await ws.pong(b"unsolicited")
            await echo(ws, "still alive")

    run(t())


# close handshake ------------------------------------------------------------


@pytest.mark.parametrize(
    "code,reason",
    [
        (1000, "normal"),
        (1001, "going away"),
        (3000, "registered"),
        (4999, "private use, max code"),
        (4000, "ünïcödé reason ✓"),
        (1000, ""),
        (3001, "r" * 123),
    ],
    ids=lambda v: str(v) if isinstance(v, int) else repr(v[:20]),
)
def test_client_close_code_echoed(server, mode, code, reason):
    async def t():
        async with open_client(server, mode) as ws:
            await echo(ws, "before close")
            await ws.close(code, reason)
            rcvd = ws.protocol.close_rcvd
            assert rcvd is not None, "no close frame received from the server"
            assert rcvd.code == code
            assert_echoed_reason(rcvd.reason, reason)

    run(t())


def test_client_close_without_status(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            # Send an empty close frame (no status code) through the protocol object.
            async with ws.send_context():
                ws.protocol.send_close()
            await asyncio.wait_for(ws.wait_closed(), T_SHORT)
            rcvd = ws.protocol.close_rcvd
            assert rcvd is not None, "no close frame received from the server"
            # RFC 6455 7.1.5: no status in the peer's close frame => 1005;
            # a server answering with 1000 is fine too.
            assert rcvd.code in (1005, 1000), rcvd

    run(t())


@pytest.mark.parametrize("code,reason", [(4001, "bye"), (1000, "done"), (3999, "zürich")])
def test_server_initiated_close(server, mode, code, reason):
    async def t():
        async with open_client(server, mode) as ws:
            await ws.send(f"!close {code} {reason}")
            with pytest.raises(ConnectionClosed) as info:
                got = await ws.recv()
                pytest.fail(f"the !close command must not be echoed (got {got!r})")
            rcvd = info.value.rcvd
            assert rcvd is not None, "no close frame received from the server"
            assert (rcvd.code, rcvd.reason) == (code, reason)
            # the client echoed the close frame: the closing handshake completed
            assert info.value.sent is not None
            assert info.value.sent.code == code

    run(t())


def test_close_command_as_binary_is_echoed(server, mode):
    async def t():
        async with open_client(server, mode) as ws:
            await echo(ws, b"!close 4001 bye")

    run(t())


# concurrency ----------------------------------------------------------------


def test_20_concurrent_clients_100_messages_each(server, mode):
    async def one_client(ci: int):
        async with open_client(server, mode) as ws:
            check_negotiation(ws, mode)
            sent = []
            for i in range(100):
                size = (i * 97 + ci * 13) % 3000
                if (i + ci) % 2 == 0:
                    msg = os.urandom(size)
                else:
                    msg = f"client {ci} message {i} " + ascii_text(size)
                sent.append(msg)
                await ws.send(msg)
            for i, msg in enumerate(sent):
                assert_same(await ws.recv(), msg, f"client {ci} message {i}")
            await ws.close(1000, f"client {ci} done")
            assert ws.protocol.close_rcvd is not None
            assert ws.protocol.close_rcvd.code == 1000
            assert_echoed_reason(ws.protocol.close_rcvd.reason, f"client {ci} done")

    async def t():
        await asyncio.gather(*(one_client(ci) for ci in range(20)))

    run(t(), T_LONG)


# window bits offers (RFC 7692 7.1.2) ----------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        dict(server_max_window_bits=10),
        dict(server_max_window_bits=15),
        dict(client_max_window_bits=9),
        dict(server_max_window_bits=9, client_max_window_bits=9,
             server_no_context_takeover=True, client_no_context_takeover=True),
    ],
    ids=["server_max_window_bits=10", "server_max_window_bits=15", "client_max_window_bits=9", "all-params"],
)
def test_deflate_window_bits_offers(server, params):
    async def t():
        factory = ClientPerMessageDeflateFactory(compress_settings={"memLevel": 5}, **params)
        async with open_client(server, "deflate", extensions=[factory]) as ws:
            header = extensions_header(ws)
            assert re.match(r"\s*permessage-deflate\b", header), f"deflate not negotiated: {header!r}"
            if "server_max_window_bits" in params:
                m = re.search(r"server_max_window_bits=(\d+)", header)
                assert m and int(m[1]) <= params["server_max_window_bits"], header
            await echo(ws, ("sockio " * 200_000))
            await echo(ws, os.urandom(100_000))
            await echo(ws, bytes(range(256)) * 4096)

    run(t(), T_LONG)


def test_server_still_serving(server):
    async def t():
        async with open_client(server, "none") as ws:
            await echo(ws, "last one")

    run(t())
