// Shared helpers of the socket.io-client suite (e2e/socketio-client/*.test.mjs):
// starting the server under test, opening tracked sockets, waiting for
// events with a deadline. Every wait here is bounded.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { io } from "socket.io-client";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SERVER_CMD =
  process.env.SOCKETIO_SERVER_CMD || path.join(ROOT, "target/release/examples/conformance");

export const PING_INTERVAL = 300;
export const CONNECT_TIMEOUT = 1000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const T = { timeout: 20_000 }; // per test, unless given

// ---------------------------------------------------------------- servers

// Starts `SERVER_CMD --port 0 ...extra`; resolves to { child, url, exit }
// once it printed its listening line. `exit` is filled in if it exits.
export function startServer(extra = []) {
  return new Promise((resolve, reject) => {
    const cmd = [SERVER_CMD, "--port 0", ...extra].join(" ");
    const child = spawn("bash", ["-c", `exec ${cmd}`], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const srv = { child, url: null, exit: null, cmd };
    let out = "";
    const timer = setTimeout(() => {
      reject(new Error(`${cmd}: no 'listening on' line within 30 s: ${JSON.stringify(out)}`));
    }, 30_000);
    child.once("exit", (code, signal) => {
      srv.exit = { code, signal };
      clearTimeout(timer);
      reject(new Error(`${cmd}: exited (${code ?? signal}) before listening: ${JSON.stringify(out)}`));
    });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      if (srv.url) return;
      out += chunk;
      const m = /^listening on (\S+):(\d+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        const host = m[1] === "0.0.0.0" || m[1] === "::" ? "127.0.0.1" : m[1];
        srv.url = `http://${host.includes(":") ? `[${host}]` : host}:${m[2]}`;
        resolve(srv);
      }
    });
  });
}

export async function stopServer(srv) {
  if (!srv || srv.exit) return;
  const exited = once(srv.child, "exit");
  srv.child.kill("SIGTERM");
  const t = setTimeout(() => srv.child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(t);
}

// ---------------------------------------------------------------- clients

// Every socket made by a test; each test file runs afterEach(closeSockets).
const sockets = new Set();

export function closeSockets() {
  for (const s of sockets) s.disconnect();
  sockets.clear();
}

// Records every event the server sends to `socket` (onAny is attached before
// the socket connects, so nothing emitted right after the CONNECT, such as
// "auth", can be missed). nextEvent(name) takes the first unread one.
export function track(socket) {
  const unread = [];
  const waiters = [];
  socket.onAny((event, ...args) => {
    const i = waiters.findIndex((w) => w.event === event);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(args);
    else unread.push({ event, args });
  });
  socket.nextEvent = (event, ms = 10_000) => {
    const i = unread.findIndex((e) => e.event === event);
    if (i >= 0) return Promise.resolve(unread.splice(i, 1)[0].args);
    return new Promise((resolve, reject) => {
      const w = {
        event,
        resolve: (args) => {
          clearTimeout(w.timer);
          resolve(args);
        },
      };
      w.timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`no '${event}' event within ${ms} ms`));
      }, ms);
      waiters.push(w);
    });
  };
  socket.unread = unread;
  sockets.add(socket);
  return socket;
}

// Resolves once `socket` is connected; rejects on connect_error.
export function connected(socket, ms = 10_000) {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no connect within ${ms} ms`));
    }, ms);
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    const onError = (err) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
    };
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

// Resolves with the connect_error of `socket` (rejects if it connects).
export function connectError(socket, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect_error within ${ms} ms`)), ms);
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      resolve(err);
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      reject(new Error(`connected to ${socket.nsp} instead of failing`));
    });
  });
}

// Resolves with [reason, description] of the next "disconnect" of `socket`.
export function disconnected(socket, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no disconnect within ${ms} ms`)), ms);
    socket.once("disconnect", (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

// events.once with a deadline.
export function within(emitter, event, ms = 10_000) {
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

export const TRANSPORTS = {
  "polling, upgraded to websocket": {},
  polling: { transports: ["polling"] },
  websocket: { transports: ["websocket"] },
};

// One socket on its own Manager (own Engine.IO connection), connected.
// No automatic reconnection unless asked.
export async function open(url, nsp = "/", opts = {}) {
  const socket = track(io(url + (nsp === "/" ? "" : nsp), { forceNew: true, reconnection: false, ...opts }));
  return connected(socket);
}

// The reason the server gave when the socket `sid` disconnected, asked over
// a separate connection ("disconnect-reason"), retried until known (the
// server may not have seen the disconnection yet) or for `ms`.
export async function serverReason(url, sid, opts = {}, ms = 5000) {
  const probe = await open(url, "/", opts);
  try {
    const deadline = Date.now() + ms;
    for (;;) {
      const reason = await probe.timeout(5000).emitWithAck("disconnect-reason", sid);
      if (reason !== null || Date.now() >= deadline) return reason;
      await sleep(20);
    }
  } finally {
    probe.disconnect();
  }
}

export function sameBytes(actual, expected, what = "value") {
  assert.ok(Buffer.isBuffer(actual), `${what}: expected a Buffer, got ${actual?.constructor?.name}`);
  assert.ok(actual.equals(Buffer.from(expected)), `${what}: bytes differ: ${actual.toString("hex")}`);
}

// ------------------------------------------- rooms, broadcasts, recovery

// SOCKETIO_SKIP_MSGPACK=1 leaves out the msgpack cases, for a server under
// test that has no msgpack parser.
export const SKIP_MSGPACK = process.env.SOCKETIO_SKIP_MSGPACK === "1" && "SOCKETIO_SKIP_MSGPACK=1";

// A name no other test uses (rooms, tags): broadcasts to a whole namespace
// reach the sockets of every test, rooms must not.
let counter = 0;
export const uniq = (prefix) => `${prefix}-${process.pid}-${++counter}`;

// Sends command `name` of "/rooms" (see reference-server.mjs) with `spec`
// and resolves with the first argument of its ack.
export function cmd(socket, name, spec = {}) {
  return socket.timeout(5000).emitWithAck(name, spec);
}

// Removes the unread `event`s of `socket` and returns their arguments.
export function take(socket, event) {
  const got = [];
  for (let i = 0; i < socket.unread.length; ) {
    if (socket.unread[i].event === event) got.push(socket.unread.splice(i, 1)[0].args);
    else i++;
  }
  return got;
}

// Calls `fn` until it resolves to something other than null, at most `ms`.
export async function untilNotNull(fn, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== null || Date.now() >= deadline) return value;
    await sleep(20);
  }
}

export const sorted = (list) => [...list].sort();
export const byId = (list) => [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
