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
//        [--host 127.0.0.1] [--msgpack] [--recovery]
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
// - --recovery: connection state recovery is on (`connectionStateRecovery:
//   {}`: sessions kept 2 min, middlewares skipped on recovery); every event
//   sent without an ack request then carries an offset as its last argument.
// - namespace "/rooms" (rooms, broadcast operators, emitWithAck gathering,
//   fetchSockets, disconnectSockets), and the dynamic namespaces matching
//   /^\/dyn-\d+$/ (which also emit "hello" with their name on connect).
//   Nothing is emitted on connect to "/rooms". Each command takes one
//   object `spec` and an ack; `spec` selects sockets as in
//   `operator(socket, spec)` below: `from` "io" (default: the socket's
//   namespace) or "socket" (this socket), then `broadcast` (socket.broadcast),
//   `to` (rooms, each `.to(room)`), `except` (rooms, each `.except(room)`),
//   `volatile`. Acks never carry an offset.
//   - "join" {rooms} / "leave" {rooms}: acknowledged with socket.rooms.
//   - "whoami": acknowledged with {id, nsp, recovered, rooms}.
//   - "emit" {...target, event, args}: emits event(...args) to the target,
//     then acknowledges (no arguments).
//   - "gather" {...target, timeout, event, args}: target.timeout(timeout)
//     .emitWithAck(event, ...args); acknowledged with {timedOut: false,
//     responses} or {timedOut: true, responses} (the first argument of each
//     client's ack, in arrival order; on a timeout, those that came).
//   - "sockets-join" / "sockets-leave" {...target, rooms}: socketsJoin /
//     socketsLeave(rooms), then acknowledges.
//   - "fetch" {...target}: fetchSockets(), acknowledged with [{id, rooms}].
//   - "disconnect-sockets" {...target, close}: disconnectSockets(close), then
//     acknowledges.
//   - "disconnect-me" {close}: socket.disconnect(close).
//   - "disconnecting-info" {id}: acknowledged with {reason, rooms} as the
//     socket `id` of "/rooms" saw them in its "disconnecting" event, or null.
//   - "emit-parent" {event, args} (dynamic namespaces only): the parent
//     namespace emits event(...args) to all its children, then acknowledges.
//   Disconnection reasons of "/rooms" and dynamic sockets go to
//   "disconnect-reason" too.
import { createServer } from "node:http";
import { Server } from "socket.io";
import msgpackParser from "socket.io-msgpack-parser";

function parseArgs(argv) {
  const opts = { port: 3000, host: "127.0.0.1", msgpack: false, recovery: false };
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
    else if (a === "--recovery") opts.recovery = true;
    else throw new Error(`unknown argument: ${a}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new Error("--port must be an integer in 0..65535");
  }
  return opts;
}

const { port, host, msgpack, recovery } = parseArgs(process.argv.slice(2));

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
  ...(recovery ? { connectionStateRecovery: {} } : {}),
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

// ------------------------------------------------- "/rooms" and "/dyn-N"

// socket id -> {reason, rooms} seen in "disconnecting" (the last 10 000).
const disconnecting = new Map();

// The sockets `spec` selects, as an object with emit/timeout/fetchSockets...:
// a Namespace, a BroadcastOperator, or the socket itself.
function operator(socket, spec) {
  let op = spec.from === "socket" ? socket : socket.nsp;
  if (spec.broadcast) op = op.broadcast;
  for (const room of spec.to ?? []) op = op.to(room);
  for (const room of spec.except ?? []) op = op.except(room);
  if (spec.volatile) op = op.volatile;
  return op;
}

// Registers a command: handler(spec) returns the ack's arguments (or a
// promise of them); a command sent without an ack request is ignored.
function command(socket, name, handler) {
  socket.on(name, async (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    if (!ack) return;
    ack(...(await handler(args[0] ?? {})));
  });
}

function roomsHandlers(socket, parent) {
  recordReason(socket);
  socket.on("disconnecting", (reason) => {
    disconnecting.set(socket.id, { reason, rooms: [...socket.rooms] });
    if (disconnecting.size > MAX_REASONS) disconnecting.delete(disconnecting.keys().next().value);
  });
  command(socket, "join", ({ rooms }) => {
    socket.join(rooms);
    return [[...socket.rooms]];
  });
  command(socket, "leave", ({ rooms }) => {
    for (const room of rooms) socket.leave(room);
    return [[...socket.rooms]];
  });
  command(socket, "whoami", () => [
    { id: socket.id, nsp: socket.nsp.name, recovered: socket.recovered, rooms: [...socket.rooms] },
  ]);
  command(socket, "emit", (spec) => {
    operator(socket, spec).emit(spec.event, ...(spec.args ?? []));
    return [];
  });
  command(socket, "gather", async (spec) => {
    const op = operator(socket, spec);
    if (op === socket) return [{ error: "not a broadcast" }];
    try {
      const responses = await op.timeout(spec.timeout).emitWithAck(spec.event, ...(spec.args ?? []));
      return [{ timedOut: false, responses }];
    } catch (err) {
      return [{ timedOut: err.message === "operation has timed out", responses: err.responses ?? [] }];
    }
  });
  command(socket, "sockets-join", (spec) => {
    operator(socket, spec).socketsJoin(spec.rooms);
    return [];
  });
  command(socket, "sockets-leave", (spec) => {
    operator(socket, spec).socketsLeave(spec.rooms);
    return [];
  });
  command(socket, "fetch", async (spec) => {
    const found = await operator(socket, spec).fetchSockets();
    return [found.map((s) => ({ id: s.id, rooms: [...s.rooms] }))];
  });
  command(socket, "disconnect-sockets", (spec) => {
    operator(socket, spec).disconnectSockets(spec.close === true);
    return [];
  });
  command(socket, "disconnecting-info", ({ id }) => [disconnecting.get(id) ?? null]);
  socket.on("disconnect-me", (spec) => {
    socket.disconnect(spec?.close === true);
  });
  if (parent) {
    command(socket, "emit-parent", (spec) => {
      parent.emit(spec.event, ...(spec.args ?? []));
      return [];
    });
  }
}

io.of("/rooms").on("connection", (socket) => roomsHandlers(socket, null));

const dynamic = io.of(/^\/dyn-\d+$/);
dynamic.on("connection", (socket) => {
  socket.emit("hello", socket.nsp.name);
  roomsHandlers(socket, dynamic);
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
