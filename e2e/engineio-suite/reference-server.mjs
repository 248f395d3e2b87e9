// Reference Engine.IO echo server built on the Node `engine.io` package
// (6.6.x), configured as the "Test suite" section of the Engine.IO v4
// protocol (docs/engine.io-protocol/v4-current.md) asks:
//
//   listen(3000, { pingInterval: 300, pingTimeout: 200, maxPayload: 1e6,
//                  cors: { origin: "*" } })
//   socket.on("data", (...args) => socket.send(...args))
//
// It stands in for `target/release/examples/conformance` so that the suites
// in e2e/engineio-suite and e2e/engineio-client can be checked against the
// reference implementation. Same command-line convention:
//
//   node e2e/engineio-suite/reference-server.mjs --port 3000   (0 = ephemeral)
//        [--host 127.0.0.1]
//
// prints `listening on 127.0.0.1:PORT` on stdout once bound.
//
// One addition to the README configuration: a text message equal to
// "close-me" is not echoed; the server closes that session instead
// (socket.close()), which the engine.io-client tests use to exercise a
// server-initiated close.
import { createServer } from "node:http";
import { attach } from "engine.io";

function parseArgs(argv) {
  const opts = { port: 3000, host: "127.0.0.1" };
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
    else throw new Error(`unknown argument: ${a}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new Error("--port must be an integer in 0..65535");
  }
  return opts;
}

const { port, host } = parseArgs(process.argv.slice(2));

// Same as engine.io's own listen(): an HTTP server answering 501 to
// everything the engine does not handle.
const httpServer = createServer((req, res) => {
  res.writeHead(501);
  res.end("Not Implemented");
});

const engine = attach(httpServer, {
  pingInterval: 300,
  pingTimeout: 200,
  // As in the protocol README, but engine.io has no `maxPayload` option: the
  // limit (and the handshake's maxPayload) is maxHttpBufferSize, whose
  // default is 1e6. Set explicitly so that the limit does not hang on a default.
  maxPayload: 1e6,
  maxHttpBufferSize: 1e6,
  cors: { origin: "*" },
});
engine.httpServer = httpServer;

engine.on("connection", (socket) => {
  socket.on("data", (...args) => {
    if (args[0] === "close-me") {
      socket.close();
      return;
    }
    socket.send(...args);
  });
});

httpServer.listen(port, host, () => {
  const addr = httpServer.address();
  process.stdout.write(`listening on ${addr.address}:${addr.port}\n`);
});

function shutdown() {
  engine.close();
  httpServer.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
