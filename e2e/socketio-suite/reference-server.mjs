// Reference Socket.IO server built on the Node `socket.io` package (4.8.x),
// configured as the "Test suite" section of the Socket.IO v5 protocol
// (docs/socket.io-protocol/v5-current.md) asks:
//
//   new Server(3000, { pingInterval: 300, pingTimeout: 200, maxPayload: 1e6,
//                      connectTimeout: 1000, cors: { origin: "*" } })
//   io.on("connection", (socket) => {
//     socket.emit("auth", socket.handshake.auth);
//     socket.on("message", (...args) => socket.emit("message-back", ...args));
//     socket.on("message-with-ack", (...args) => args.pop()(...args));
//   });
//   io.of("/custom").on("connection", (socket) => socket.emit("auth", socket.handshake.auth));
//
// It stands in for `target/release/examples/conformance` so that the suites
// in e2e/socketio-suite and e2e/socketio-client can be checked against the
// reference implementation. Same command-line convention:
//
//   node e2e/socketio-suite/reference-server.mjs --port 3000   (0 = ephemeral)
//        [--host 127.0.0.1] [--msgpack]
//
// prints `listening on 127.0.0.1:PORT` on stdout once bound. Socket.IO is
// served at /socket.io/ (nothing else: the raw Engine.IO echo at /engine.io/
// has its own reference, e2e/engineio-suite/reference-server.mjs).
//
// Additions to the README configuration, used by e2e/socketio-client (the
// official suite never sends these events, so they do not change its results):
//
// - --msgpack: the server uses the `socket.io-msgpack-parser` parser instead
//   of the default one (clients must use it too).
// - namespace "/", besides the README's handlers:
//   - "ask-me" (...args): the server emits "ping-me" with the same args and an
//     ack request; when the client acknowledges it with (...answer), the
//     server emits "acked" with (...answer).
//   - "no-ack": ignored (a client's ack request is never answered).
//   - "disconnect-me": the server disconnects this socket from the namespace
//     (socket.disconnect(), the Engine.IO connection stays open): the client
//     sees the reason "io server disconnect".
//   - "disconnect-reason" (sid, ack): acknowledges with the reason the server
//     gave for the disconnection of the socket whose id is sid, in any
//     namespace ("client namespace disconnect", "server namespace disconnect",
//     "transport close", ...), or null while that socket has not disconnected
//     (or is unknown). The last 10 000 reasons are kept.
// - namespace "/forbidden": a middleware refuses every connection with an
//   error whose message is "forbidden" and data {"reason":"test"}
//   (CONNECT_ERROR `44/forbidden,{"message":"forbidden","data":{"reason":"test"}}`).
// - Any other namespace (e.g. "/nope") is unknown: CONNECT_ERROR
//   `44/nope,{"message":"Invalid namespace"}` (socket.io's own behaviour).
import { createServer } from "node:http";
import { Server } from "socket.io";
import msgpackParser from "socket.io-msgpack-parser";

function parseArgs(argv) {
  const opts = { port: 3000, host: "127.0.0.1", msgpack: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === "--port") opts.port = Number(value());
    else if (a.startsWith("--port=")) opts.port = Number(a.slice(7));
    else if (a === "--host") opts.host = value();
    else if (a.startsWith("--host=")) opts.host = a.slice(7);
    else if (a === "--msgpack") opts.msgpack = true;
    else throw new Error(`unknown argument: ${a}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new Error("--port must be an integer in 0..65535");
  }
  return opts;
}

const { port, host, msgpack } = parseArgs(process.argv.slice(2));

// As `new Server(3000, ...)` does: an HTTP server answering 404 to every
// request socket.io does not handle (socket.io takes everything under
// /socket.io/, including its client bundle at /socket.io/socket.io.js).
const httpServer = createServer((_req, res) => {
  res.writeHead(404);
  res.end();
});

const io = new Server(httpServer, {
  pingInterval: 300,
  pingTimeout: 200,
  // As in the protocol README, but engine.io has no `maxPayload` option: the
  // limit (and the handshake's maxPayload) is maxHttpBufferSize, whose
  // default is 1e6. Set explicitly so that the limit does not hang on a default.
  maxPayload: 1e6,
  maxHttpBufferSize: 1e6,
  connectTimeout: 1000,
  cors: { origin: "*" },
  ...(msgpack ? { parser: msgpackParser } : {}),
});

// socket id -> reason given by the server when that socket disconnected.
const reasons = new Map();
const MAX_REASONS = 10_000;
function recordReason(socket) {
  socket.on("disconnect", (reason) => {
    reasons.set(socket.id, reason);
    if (reasons.size > MAX_REASONS) reasons.delete(reasons.keys().next().value);
  });
}

io.on("connection", (socket) => {
  recordReason(socket);
  socket.emit("auth", socket.handshake.auth);

  socket.on("message", (...args) => {
    socket.emit.apply(socket, ["message-back", ...args]);
  });

  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });

  socket.on("ask-me", (...args) => {
    if (typeof args[args.length - 1] === "function") args.pop(); // not acknowledged
    socket.emit("ping-me", ...args, (...answer) => {
      socket.emit("acked", ...answer);
    });
  });

  socket.on("no-ack", () => {});

  socket.on("disconnect-me", () => {
    socket.disconnect();
  });

  socket.on("disconnect-reason", (sid, ack) => {
    if (typeof ack === "function") ack(reasons.get(sid) ?? null);
  });
});

io.of("/custom").on("connection", (socket) => {
  recordReason(socket);
  socket.emit("auth", socket.handshake.auth);
});

io.of("/forbidden").use((socket, next) => {
  const err = new Error("forbidden");
  err.data = { reason: "test" };
  next(err);
});

httpServer.listen(port, host, () => {
  const addr = httpServer.address();
  process.stdout.write(`listening on ${addr.address}:${addr.port}\n`);
});

function shutdown() {
  io.close();
  httpServer.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
