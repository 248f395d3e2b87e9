#!/usr/bin/env python3
"""Peer WebSocket echo server built on the `websockets` library (asyncio API).

Used (a) as a stand-in for sockio-ws's echo_server when validating the e2e
suites, and (b) as a real peer for sockio-ws client interop tests.

Usage:
    python peer_echo_server.py [HOST:PORT] [--host H] [--port N] [--deflate|--no-deflate]

Defaults: 127.0.0.1, port 0 (ephemeral), permessage-deflate off; when several of
--deflate / --no-deflate are given, the last one wins.

Behaviour:
  * prints exactly one stdout line ``listening on HOST:PORT`` once bound;
  * echoes every text/binary message with the same type (fragmented messages
    are reassembled and echoed as one message);
  * a TEXT message ``!close <code> [<reason>]`` makes the server start a close
    handshake with that code and reason;
  * pings are answered with pongs carrying the same payload, and a close frame
    from the client is answered with the same code and reason (websockets does
    both);
  * --deflate enables permessage-deflate with websockets' default server
    settings (server_max_window_bits=12, client_max_window_bits=12 when the
    client offers it, memLevel 5);
  * max message size 32 MiB; no keepalive pings from the server.

SIGTERM / SIGINT stop the server and exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

MAX_SIZE = 32 * 1024 * 1024
CLOSE_CMD = re.compile(r"!close (\d+)(?: (.*))?\Z", re.DOTALL)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("address", nargs="?", help="HOST:PORT to bind (alternative to --host/--port)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--deflate", dest="deflate", action="store_true", default=False)
    p.add_argument("--no-deflate", dest="deflate", action="store_false")
    args = p.parse_args(argv)
    if args.address:
        m = re.fullmatch(r"(.*):(\d+)", args.address)
        if not m:
            p.error(f"bad address {args.address!r}")
        args.host = m[1].removeprefix("[").removesuffix("]")
        args.port = int(m[2])
    if not 0 <= args.port <= 65535:
        p.error(f"bad port {args.port}")
    return args


async def handler(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            if isinstance(message, str):
                m = CLOSE_CMD.match(message)
                if m:
                    code, reason = int(m[1]), m[2] or ""
                    try:
                        await ws.close(code, reason)
                    except Exception as exc:  # invalid code: drop the connection
                        print(f"peer_echo_server: cannot close with {code}: {exc}", file=sys.stderr)
                        ws.transport.abort()
                    return
            await ws.send(message)
    except ConnectionClosed:
        pass


async def main(argv: list[str]) -> None:
    args = parse_args(argv)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with serve(
        handler,
        args.host,
        args.port,
        compression="deflate" if args.deflate else None,
        max_size=MAX_SIZE,
        ping_interval=None,
        close_timeout=5,
    ) as server:
        sockname = server.sockets[0].getsockname()
        host = f"[{sockname[0]}]" if ":" in sockname[0] else sockname[0]
        print(f"listening on {host}:{sockname[1]}", flush=True)
        await stop
        server.close(close_connections=False)
        for conn in list(server.connections):
            conn.transport.abort()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
