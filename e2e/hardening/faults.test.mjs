// Faults a production server meets, against a running Engine.IO server
// (issue 13): the server process is paused for a second while clients are
// connected, and polling POST bodies stall half-way.
//
// The server under test is `$ENGINEIO_SERVER_CMD --port 0` (run from the
// repository root; default target/release/examples/conformance): it prints
// `listening on HOST:PORT` and serves Engine.IO at /engine.io/ with
// pingInterval 300 ms and pingTimeout 200 ms, as the conformance example and
// e2e/engineio-suite/reference-server.mjs do. Run it with e2e/hardening/run.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { fileURLToPath } from "node:url";
import path from "node:path";
import WebSocket from "ws";
import { startServer } from "./server.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SERVER_CMD =
  process.env.ENGINEIO_SERVER_CMD || path.join(ROOT, "target/release/examples/conformance");
const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
let host;
let port;

before(async () => {
  server = await startServer(SERVER_CMD, "--port 0", { cwd: ROOT });
  ({ host, port } = server);
});

after(async () => {
  if (server.exitCode !== null || server.signalCode !== null) return;
  server.kill("SIGCONT");
  const exited = once(server, "exit");
  server.kill("SIGTERM");
  const t = setTimeout(() => server.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(t);
});

// A raw Engine.IO WebSocket client that answers every ping and has no
// heartbeat timer of its own (engine.io-client would give up on a silent
// server by itself): what it measures is the server's patience.
function wsClient() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}:${port}/engine.io/?EIO=4&transport=websocket`);
    const client = { ws, pings: 0, closed: false };
    ws.on("message", (data) => {
      const text = data.toString();
      if (text.startsWith("0")) resolve(client);
      else if (text === "2") {
        client.pings++;
        ws.send("3");
      }
    });
    ws.on("close", () => {
      client.closed = true;
    });
    ws.on("error", reject);
  });
}

describe("a server paused for 1 s", () => {
  it("closes none of 50 healthy clients", { timeout: 30_000 }, async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, wsClient));
    // Heartbeats under way.
    await sleep(2 * PING_INTERVAL);
    assert.ok(clients.every((c) => c.pings > 0 && !c.closed));
    server.kill("SIGSTOP");
    await sleep(1000);
    server.kill("SIGCONT");
    const before = clients.map((c) => c.pings);
    await sleep(5 * PING_INTERVAL);
    const alive = clients.filter((c) => !c.closed).length;
    assert.equal(alive, 50, `${alive} of 50 clients survived the pause`);
    // And the heartbeat goes on for each.
    clients.forEach((c, i) => assert.ok(c.pings > before[i], `client ${i} got no ping after the pause`));
    for (const c of clients) c.ws.terminate();
  });
});

// Opens a polling session; resolves with its sid.
async function pollingSession() {
  const res = await fetch(`http://${host}:${port}/engine.io/?EIO=4&transport=polling`);
  const body = await res.text();
  return /"sid":"([^"]+)"/.exec(body)[1];
}

// Sends a POST announcing 1000 bytes and sends 10; resolves with the time
// the connection ended (and whether a response came first).
function stalledPost(sid) {
  return new Promise((resolve) => {
    const socket = net.connect(port, host, () => {
      socket.write(
        `POST /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\n` +
          `Host: ${host}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 1000\r\n\r\n4hello wor`,
      );
    });
    let response = "";
    socket.setEncoding("latin1");
    socket.on("data", (d) => (response += d));
    socket.on("error", () => {});
    socket.on("close", () => resolve({ at: Date.now(), response }));
  });
}

describe("polling POST bodies that never finish", () => {
  it("300 stalled bodies all end with their sessions' ping timeout", { timeout: 30_000 }, async () => {
    const sids = [];
    for (let i = 0; i < 300; i++) sids.push(await pollingSession());
    const started = Date.now();
    const ends = sids.map(stalledPost);
    // Bounded: each must end within the heartbeat (500 ms) and a margin.
    const limit = sleep(10_000).then(() => "timeout");
    const outcome = await Promise.race([Promise.all(ends), limit]);
    assert.notEqual(outcome, "timeout", "stalled POST bodies still open after 10 s");
    const latest = Math.max(...outcome.map((e) => e.at)) - started;
    assert.ok(
      latest <= 4 * (PING_INTERVAL + PING_TIMEOUT),
      `the last stalled body ended after ${latest} ms`,
    );
  });
});
