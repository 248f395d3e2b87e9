// Interop: the official Node `engine.io-client` (6.6.x) against an Engine.IO
// echo server: polling, WebSocket, upgrade, text and binary, payload limits,
// heartbeat, closes, and many concurrent clients.
//
// The server under test is `$ENGINEIO_SERVER_CMD --port 0` (run from the
// repository root; default target/release/examples/conformance). It must
// print `listening on HOST:PORT`, serve Engine.IO at /engine.io/ with
// pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1 000 000, echo every
// message, and close the session when it receives the text message
// "close-me". Run it with e2e/engineio-client/run.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Socket } from "engine.io-client";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SERVER_CMD =
  process.env.ENGINEIO_SERVER_CMD || path.join(ROOT, "target/release/examples/conformance");

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const MAX_PAYLOAD = 1_000_000;

let server;
let baseUrl;
let serverExit = null;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", `exec ${SERVER_CMD} --port 0`], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const timer = setTimeout(() => {
      reject(new Error(`server printed no 'listening on' line within 30 s: ${JSON.stringify(out)}`));
    }, 30_000);
    child.once("exit", (code, signal) => {
      serverExit = { code, signal };
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening: ${JSON.stringify(out)}`));
    });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      if (baseUrl) return;
      out += chunk;
      const m = /^listening on (\S+):(\d+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        const host = m[1] === "0.0.0.0" || m[1] === "::" ? "127.0.0.1" : m[1];
        baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${m[2]}`;
        resolve(child);
      }
    });
  });
}

async function stopServer() {
  if (!server || serverExit) return;
  const exited = once(server, "exit");
  server.kill("SIGTERM");
  const t = setTimeout(() => server.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(t);
}

const sockets = new Set();
const T = { timeout: 20_000 }; // per test, unless given

// Opens a socket; resolves once the handshake is done.
function connect(opts = {}) {
  return new Promise((resolve, reject) => {
    const socket = new Socket(baseUrl, opts);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const timer = setTimeout(() => reject(new Error("no open within 10 s")), 10_000);
    socket.once("open", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once("close", (reason, desc) => {
      clearTimeout(timer);
      reject(new Error(`closed before open: ${reason} ${describe_(desc)}`));
    });
  });
}

// events.once with a deadline.
function within(emitter, event, ms = 10_000) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  return once(emitter, event, { signal: ac.signal }).then(
    (args) => {
      clearTimeout(timer);
      return args;
    },
    (err) => {
      clearTimeout(timer);
      if (err.name === "AbortError") throw new Error(`no '${event}' event within ${ms} ms`);
      throw err;
    },
  );
}

function describe_(desc) {
  if (!desc) return "";
  return JSON.stringify({
    message: desc.message,
    description: desc.description?.message ?? desc.description,
    code: desc.context?.code ?? desc.context?.statusCode,
  });
}

function nextMessage(socket, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const onMessage = (data) => {
      cleanup();
      resolve(data);
    };
    const onClose = (reason, desc) => {
      cleanup();
      reject(new Error(`closed while waiting for a message: ${reason} ${describe_(desc)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no message within ${ms} ms`));
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("message", onMessage);
      socket.off("close", onClose);
    };
    socket.on("message", onMessage);
    socket.on("close", onClose);
  });
}

function messages(socket, n, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const onMessage = (data) => {
      got.push(data);
      if (got.length === n) {
        cleanup();
        resolve(got);
      }
    };
    const onClose = (reason) => {
      cleanup();
      reject(new Error(`closed after ${got.length}/${n} messages: ${reason}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${got.length}/${n} messages within ${ms} ms`));
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("message", onMessage);
      socket.off("close", onClose);
    };
    socket.on("message", onMessage);
    socket.on("close", onClose);
  });
}

// Resolves with { reason, desc, at } on the socket's close event.
function closeEvent(socket, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no close within ${ms} ms`)), ms);
    socket.once("close", (reason, desc) => {
      clearTimeout(timer);
      resolve({ reason, desc, at: Date.now() });
    });
  });
}

async function echo(socket, data) {
  const reply = nextMessage(socket);
  socket.send(data);
  return reply;
}

function bytes(n, seed = 7) {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

// A plain polling GET for a session id: what the server says about it.
async function pollStatus(sid) {
  const res = await fetch(`${baseUrl}/engine.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`);
  return { status: res.status, body: await res.text() };
}

// The reference answers any request for a closed session with 400
// {"code":1,"message":"Session ID unknown"}. (A polling request for a session
// still open on WebSocket gets 400 {"code":3,"message":"Bad request"}, so
// this waits until the session is really gone.)
async function assertSessionGone(sid, ms = 2000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await pollStatus(sid);
    if ((last.status === 400 && last.body.includes('"code":1')) || Date.now() > deadline) break;
    await sleep(50);
  }
  assert.equal(last.status, 400, `session ${sid} still known to the server: ${JSON.stringify(last)}`);
  assert.deepEqual(JSON.parse(last.body), { code: 1, message: "Session ID unknown" });
}

// Stops answering the server's pings, and (unless keepClientTimer) also
// disables the client's own ping timeout, so that only the server can end
// the session.
function stopPonging(socket, { keepClientTimer = false } = {}) {
  const send = socket._sendPacket.bind(socket);
  assert.equal(typeof send, "function", "engine.io-client internals changed: no _sendPacket");
  socket._sendPacket = (type, ...rest) => (type === "pong" ? undefined : send(type, ...rest));
  if (!keepClientTimer) {
    socket._resetPingTimeout = function () {
      this.clearTimeoutFn(this._pingTimeoutTimer);
    };
    socket.clearTimeoutFn(socket._pingTimeoutTimer);
  }
}

before(async () => {
  server = await startServer();
  server.on("exit", (code, signal) => {
    serverExit = { code, signal };
  });
  // Never leave the server behind if this process dies abruptly.
  process.once("exit", () => {
    if (!serverExit) server.kill("SIGKILL");
  });
});

after(async () => {
  for (const s of sockets) s.close();
  await stopServer();
});

const TRANSPORTS = {
  polling: { transports: ["polling"] },
  websocket: { transports: ["websocket"] },
};

describe("engine.io-client interop", () => {
  describe("handshake", () => {
    for (const [name, opts] of Object.entries(TRANSPORTS)) {
      it(`${name} only: opens with the conformance settings`, T, async () => {
        const socket = new Socket(baseUrl, opts);
        sockets.add(socket);
        const opened = within(socket, "open"); // emitted right after "handshake"
        const [handshake] = await within(socket, "handshake");
        await opened;
        assert.equal(socket.transport.name, name);
        assert.equal(typeof handshake.sid, "string");
        assert.ok(handshake.sid.length > 0);
        assert.equal(socket.id, handshake.sid);
        assert.deepEqual(handshake.upgrades, name === "polling" ? ["websocket"] : []);
        assert.equal(handshake.pingInterval, PING_INTERVAL);
        assert.equal(handshake.pingTimeout, PING_TIMEOUT);
        assert.equal(handshake.maxPayload, MAX_PAYLOAD);
        socket.close();
      });
    }

    it("session ids are unique", T, async () => {
      const socks = await Promise.all(Array.from({ length: 20 }, () => connect(TRANSPORTS.polling)));
      assert.equal(new Set(socks.map((s) => s.id)).size, socks.length);
      socks.forEach((s) => s.close());
    });
  });

  describe("polling only", () => {
    it("echoes text and never upgrades", T, async () => {
      const socket = await connect(TRANSPORTS.polling);
      let upgraded = false;
      socket.on("upgrade", () => (upgraded = true));
      assert.equal(await echo(socket, "hello"), "hello");
      await sleep(PING_INTERVAL + 100); // across a heartbeat
      assert.equal(await echo(socket, "again"), "again");
      assert.equal(socket.transport.name, "polling");
      assert.equal(upgraded, false);
      socket.close();
    });
  });

  describe("WebSocket only", () => {
    it("echoes text", T, async () => {
      const socket = await connect(TRANSPORTS.websocket);
      assert.equal(await echo(socket, "hello"), "hello");
      await sleep(PING_INTERVAL + 100);
      assert.equal(await echo(socket, "again"), "again");
      assert.equal(socket.transport.name, "websocket");
      socket.close();
    });
  });

  describe("upgrade", () => {
    it("upgrades polling to WebSocket and keeps echoing", T, async () => {
      const socket = new Socket(baseUrl);
      sockets.add(socket);
      const upgrade = within(socket, "upgrade");
      await within(socket, "open");
      assert.equal(socket.transport.name, "polling");
      const [transport] = await upgrade;
      assert.equal(transport.name, "websocket");
      assert.equal(socket.transport.name, "websocket");
      assert.equal(await echo(socket, "after upgrade"), "after upgrade");
      assert.deepEqual(await echo(socket, Buffer.from([9, 8, 7])), Buffer.from([9, 8, 7]));
      socket.close();
    });

    it("messages sent while upgrading all arrive, in order", T, async () => {
      const socket = new Socket(baseUrl);
      sockets.add(socket);
      const upgrade = within(socket, "upgrade");
      await within(socket, "open");
      const sent = Array.from({ length: 30 }, (_, i) => (i % 3 === 2 ? Buffer.from([i]) : `m${i}`));
      const received = messages(socket, sent.length);
      for (const m of sent) socket.send(m);
      await upgrade;
      assert.deepEqual(await received, sent);
      assert.equal(socket.transport.name, "websocket");
      socket.close();
    });
  });

  for (const [name, opts] of Object.entries(TRANSPORTS)) {
    describe(`text and binary over ${name}`, () => {
      it("text, including non-ASCII and empty", T, async () => {
        const socket = await connect(opts);
        for (const s of ["hello", "héllo wörld ✓ 🚀 \u0000 \u2028", "4", "b", "x".repeat(10_000)]) {
          assert.equal(await echo(socket, s), s);
        }
        // engine.io-parser decodes the packet "4" (an empty message) as data
        // undefined, so an empty string comes back as undefined, whatever
        // the server sends back (the reference sends "4").
        assert.equal(await echo(socket, ""), undefined);
        socket.close();
      });

      it("Buffer, ArrayBuffer and Uint8Array in, Buffer out", T, async () => {
        const socket = await connect(opts);
        assert.deepEqual(await echo(socket, Buffer.from([1, 2, 3, 4])), Buffer.from([1, 2, 3, 4]));
        assert.deepEqual(await echo(socket, Uint8Array.from([5, 6, 7]).buffer), Buffer.from([5, 6, 7]));
        const view = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]).subarray(2, 5);
        assert.deepEqual(await echo(socket, view), Buffer.from([2, 3, 4]));
        assert.deepEqual(await echo(socket, Buffer.alloc(0)), Buffer.alloc(0));
        const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        assert.deepEqual(await echo(socket, all), all);
        socket.close();
      });

      it("binaryType 'arraybuffer' receives ArrayBuffer", T, async () => {
        const socket = await connect(opts);
        socket.binaryType = "arraybuffer";
        const reply = await echo(socket, Buffer.from([10, 20, 30]));
        assert.ok(reply instanceof ArrayBuffer, `got ${reply?.constructor?.name}`);
        assert.deepEqual(Buffer.from(reply), Buffer.from([10, 20, 30]));
        socket.close();
      });

      it("mixed text and binary keep their order and kind", T, async () => {
        const socket = await connect(opts);
        const sent = Array.from({ length: 50 }, (_, i) => (i % 2 ? bytes(i + 1, i) : `text ${i}`));
        const received = messages(socket, sent.length);
        for (const m of sent) socket.send(m);
        assert.deepEqual(await received, sent);
        socket.close();
      });
    });
  }

  describe("payload size", () => {
    // maxPayload counts the encoded packet: "4" + text, raw bytes on a
    // WebSocket binary frame, "b" + base64 in a polling payload.
    const text1MB = "y".repeat(MAX_PAYLOAD - 1);

    for (const [name, opts] of Object.entries(TRANSPORTS)) {
      it(`echoes a 1 MB text packet (exactly maxPayload) over ${name}`, { timeout: 30_000 }, async () => {
        const socket = await connect(opts);
        const reply = await echo(socket, text1MB);
        assert.equal(reply.length, text1MB.length);
        assert.ok(reply === text1MB, "content differs");
        assert.equal(await echo(socket, "still open"), "still open");
        socket.close();
      });
    }

    it("echoes a 1 MB binary packet (exactly maxPayload) over websocket", { timeout: 30_000 }, async () => {
      const socket = await connect(TRANSPORTS.websocket);
      const data = bytes(MAX_PAYLOAD);
      const reply = await echo(socket, data);
      assert.ok(Buffer.isBuffer(reply));
      assert.ok(reply.equals(data), "content differs");
      socket.close();
    });

    it("echoes the largest binary packet that fits maxPayload over polling (749 997 bytes, base64)", { timeout: 30_000 }, async () => {
      const socket = await connect(TRANSPORTS.polling);
      const data = bytes(((MAX_PAYLOAD - 1) / 4 | 0) * 3); // "b" + 999 996 base64 chars
      const reply = await echo(socket, data);
      assert.ok(Buffer.isBuffer(reply));
      assert.ok(reply.equals(data), "content differs");
      socket.close();
    });

    it("refuses a packet over maxPayload over polling: HTTP 413, client closes with 'transport error'", { timeout: 30_000 }, async () => {
      const socket = await connect(TRANSPORTS.polling);
      const errors = [];
      socket.on("error", (err) => errors.push(err));
      const closed = closeEvent(socket);
      socket.send("z".repeat(MAX_PAYLOAD)); // "4" + 1 000 000 = maxPayload + 1
      const { reason, desc } = await closed;
      assert.equal(reason, "transport error");
      assert.equal(desc?.message, "xhr post error");
      assert.equal(desc?.description, 413);
      assert.equal(errors.length, 1);
      // the server is still fine
      const other = await connect(TRANSPORTS.polling);
      assert.equal(await echo(other, "after"), "after");
      other.close();
    });

    it("refuses a packet over maxPayload over websocket: close code 1009", { timeout: 30_000 }, async () => {
      for (const tooBig of ["z".repeat(MAX_PAYLOAD), bytes(MAX_PAYLOAD + 1)]) {
        const socket = await connect(TRANSPORTS.websocket);
        const closed = closeEvent(socket);
        socket.send(tooBig);
        const { reason, desc } = await closed;
        assert.equal(reason, "transport close");
        assert.equal(desc?.description, "websocket connection closed");
        assert.equal(desc?.context?.code, 1009, `close code ${desc?.context?.code}`);
      }
      const other = await connect(TRANSPORTS.websocket);
      assert.equal(await echo(other, "after"), "after");
      other.close();
    });
  });

  describe("heartbeat", () => {
    for (const [name, opts] of Object.entries(TRANSPORTS)) {
      it(`pings every pingInterval and stays open while the client answers (${name})`, T, async () => {
        const socket = await connect(opts);
        const pings = [];
        socket.on("ping", () => pings.push(Date.now()));
        let closed = null;
        socket.on("close", (reason) => (closed = reason));
        await sleep(PING_INTERVAL * 5 + 100);
        assert.equal(closed, null, `closed: ${closed}`);
        assert.ok(pings.length >= 4, `${pings.length} pings in ${PING_INTERVAL * 5 + 100} ms`);
        for (let i = 1; i < pings.length; i++) {
          const gap = pings[i] - pings[i - 1];
          assert.ok(gap >= PING_INTERVAL - 50, `ping gap ${gap} ms`);
        }
        assert.equal(await echo(socket, "alive"), "alive");
        socket.close();
      });

      it(`server closes the session when the client stops answering pings (${name})`, T, async () => {
        const socket = await connect(opts);
        const sid = socket.id;
        stopPonging(socket);
        await within(socket, "ping", 5000);
        const pingAt = Date.now();
        const { reason, at } = await closeEvent(socket, 5000);
        const waited = at - pingAt;
        // The reference (engine.io 6.6) closes pingTimeout after the unanswered
        // ping: the client sees the transport closed by the server.
        assert.equal(reason, "transport close");
        assert.ok(waited >= PING_TIMEOUT - 100, `closed ${waited} ms after the ping`);
        assert.ok(waited <= PING_TIMEOUT + 2000, `closed ${waited} ms after the ping`);
        await assertSessionGone(sid);
      });
    }

    it("with the client's own ping timeout left on, the server still closes first (polling→websocket)", T, async () => {
      const socket = new Socket(baseUrl);
      sockets.add(socket);
      await within(socket, "upgrade");
      const sid = socket.id;
      stopPonging(socket, { keepClientTimer: true });
      const { reason } = await closeEvent(socket, 5000);
      assert.ok(["transport close", "ping timeout"].includes(reason), reason);
      assert.equal(reason, "transport close", "reference: the server closes before the client's timer fires");
      await assertSessionGone(sid);
    });
  });

  describe("close", () => {
    for (const [name, opts] of Object.entries(TRANSPORTS)) {
      it(`server-initiated close on 'close-me' (${name})`, T, async () => {
        const socket = await connect(opts);
        const sid = socket.id;
        assert.equal(await echo(socket, "before"), "before");
        const closed = closeEvent(socket);
        let echoed = false;
        socket.on("message", (m) => m === "close-me" && (echoed = true));
        socket.send("close-me");
        const { reason } = await closed;
        assert.equal(reason, "transport close");
        assert.equal(echoed, false, "close-me was echoed");
        await assertSessionGone(sid);
      });
    }

    it("server-initiated close on 'close-me' after an upgrade", T, async () => {
      const socket = new Socket(baseUrl);
      sockets.add(socket);
      await within(socket, "upgrade");
      const sid = socket.id;
      const closed = closeEvent(socket);
      socket.send("close-me");
      assert.equal((await closed).reason, "transport close");
      await assertSessionGone(sid);
    });

    for (const [name, opts] of Object.entries(TRANSPORTS)) {
      it(`client-initiated close ends the server session (${name})`, T, async () => {
        const socket = await connect(opts);
        const sid = socket.id;
        const closed = closeEvent(socket);
        socket.close();
        assert.equal((await closed).reason, "forced close");
        await assertSessionGone(sid);
      });
    }
  });

  describe("concurrency", () => {
    // Opens n clients (batch at a time, gapMs apart), waits until all are
    // open at once, then has every one echo a text and a binary message,
    // then closes them all. Returns the session ids.
    async function crowd(n, opts, { batch = n, gapMs = 0 } = {}) {
      const pending = [];
      for (let i = 0; i < n; i++) {
        if (i > 0 && i % batch === 0) await sleep(gapMs);
        pending.push(connect(typeof opts === "function" ? opts(i) : opts));
      }
      const opened = await Promise.allSettled(pending);
      const socks = opened.filter((r) => r.status === "fulfilled").map((r) => r.value);
      try {
        const openFailures = opened.filter((r) => r.status === "rejected");
        assert.equal(openFailures.length, 0, `${openFailures.length}/${n} did not open, first: ${openFailures[0]?.reason}`);
        const results = await Promise.allSettled(
          socks.map(async (socket, i) => {
            const text = `client ${i} ${socket.id}`;
            const bin = bytes(64 + i, i);
            const replies = messages(socket, 2);
            socket.send(text);
            socket.send(bin);
            const [r1, r2] = await replies;
            assert.equal(r1, text);
            assert.deepEqual(r2, bin);
            return socket.id;
          }),
        );
        const failures = results.filter((r) => r.status === "rejected");
        assert.equal(failures.length, 0, `${failures.length}/${n} failed, first: ${failures[0]?.reason?.message ?? failures[0]?.reason}`);
        const ids = results.map((r) => r.value);
        assert.equal(new Set(ids).size, n, "duplicate session ids");
        return ids;
      } finally {
        socks.forEach((s) => s.close());
      }
    }

    it("200 concurrent WebSocket clients, connecting all at once, each get their own echo", { timeout: 60_000 }, async () => {
      await crowd(200, TRANSPORTS.websocket);
    });

    it("200 concurrent clients upgrading from polling (started 10 every 50 ms), each get their own echo", { timeout: 60_000 }, async () => {
      const ids = await crowd(200, {}, { batch: 10, gapMs: 50 });
      assert.equal(ids.length, 200);
    });

    it("200 polling-only clients, 50 at once, each get their own echo", { timeout: 60_000 }, async () => {
      for (let wave = 0; wave < 4; wave++) await crowd(50, TRANSPORTS.polling);
    });
  });

  describe("server", () => {
    it("is still running after all of the above", T, () => {
      assert.equal(serverExit, null, `server exited: ${JSON.stringify(serverExit)}`);
    });
  });
});
