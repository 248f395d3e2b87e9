#!/usr/bin/env node
// Peer WebSocket echo server built on the `ws` library.
//
// Used (a) as a stand-in for sockio-ws's echo_server when validating the e2e
// suites, and (b) as a real peer for sockio-ws client interop tests.
//
// Usage:
//   node peer-echo-server.mjs [HOST:PORT] [--host H] [--port N] [--deflate|--no-deflate]
// Defaults: 127.0.0.1, port 0 (ephemeral), permessage-deflate off.
// When several of --deflate / --no-deflate are given, the last one wins.
//
// Behaviour:
//   - prints exactly one stdout line `listening on HOST:PORT` once bound;
//   - echoes every text/binary message with the same type (fragmented
//     messages are reassembled and echoed as one message);
//   - a TEXT message `!close <code> [<reason>]` makes the server start a close
//     handshake with that code and reason;
//   - pings are answered with pongs carrying the same payload (ws does this);
//   - a close frame from the client is answered with the same code/reason
//     (ws does this);
//   - permessage-deflate (RFC 7692) when --deflate: every message is
//     compressed (threshold 0), client offers of *_no_context_takeover and
//     *_max_window_bits are accepted;
//   - maxPayload 32 MiB.
// SIGTERM / SIGINT close the server and exit 0.

import { WebSocketServer } from 'ws';

function usage(msg) {
  if (msg) process.stderr.write(`peer-echo-server: ${msg}\n`);
  process.stderr.write(
    'usage: node peer-echo-server.mjs [HOST:PORT] [--host H] [--port N] [--deflate|--no-deflate]\n',
  );
  process.exit(2);
}

let host = '127.0.0.1';
let port = 0;
let deflate = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--deflate') deflate = true;
  else if (a === '--no-deflate') deflate = false;
  else if (a === '--port') port = Number(argv[++i]);
  else if (a.startsWith('--port=')) port = Number(a.slice(7));
  else if (a === '--host') host = argv[++i];
  else if (a.startsWith('--host=')) host = a.slice(7);
  else if (a === '-h' || a === '--help') usage();
  else if (!a.startsWith('-')) {
    const m = /^(.*):(\d+)$/.exec(a);
    if (!m) usage(`bad address ${a}`);
    host = m[1].replace(/^\[(.*)\]$/, '$1');
    port = Number(m[2]);
  } else usage(`unknown option ${a}`);
}
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`bad port ${port}`);

const MAX_PAYLOAD = 32 * 1024 * 1024;
const CLOSE_CMD = /^!close (\d+)(?: ([\s\S]*))?$/;

const wss = new WebSocketServer({
  host,
  port,
  maxPayload: MAX_PAYLOAD,
  perMessageDeflate: deflate ? { threshold: 0 } : false,
  clientTracking: true,
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      const text = data.toString('utf8');
      const m = CLOSE_CMD.exec(text);
      if (m) {
        const code = Number(m[1]);
        const reason = m[2] ?? '';
        try {
          ws.close(code, reason);
        } catch (err) {
          process.stderr.write(`peer-echo-server: cannot close with ${code}: ${err.message}\n`);
          ws.terminate();
        }
        return;
      }
    }
    ws.send(data, { binary: isBinary });
  });
  ws.on('error', (err) => {
    // Protocol errors from the peer: ws already sent the close frame.
    if (process.env.PEER_ECHO_DEBUG) process.stderr.write(`peer-echo-server: ${err.message}\n`);
  });
});

wss.on('listening', () => {
  const addr = wss.address();
  const shown = addr.family === 'IPv6' || addr.family === 6 ? `[${addr.address}]` : addr.address;
  process.stdout.write(`listening on ${shown}:${addr.port}\n`);
});

wss.on('error', (err) => {
  process.stderr.write(`peer-echo-server: ${err.message}\n`);
  process.exit(1);
});

function shutdown() {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
