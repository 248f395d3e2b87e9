// Interop: the official engine.io-client browser bundle (6.6.x,
// e2e/node_modules/engine.io-client/dist/engine.io.min.js) running in
// Chromium against an Engine.IO echo server: polling then upgrade to
// WebSocket, WebSocket only, polling only, server-initiated close, heartbeat.
// Run: e2e/engineio-browser/run   (or node --test e2e/engineio-browser/client.test.mjs)
//
// The server under test is `$ENGINEIO_SERVER_CMD --port 0` (run from the
// repository root; default target/release/examples/conformance). It must
// print `listening on HOST:PORT`, serve Engine.IO at /engine.io/ with CORS
// `Access-Control-Allow-Origin: *`, pingInterval 300 ms, pingTimeout 200 ms,
// echo every message, and close the session when it receives the text
// message "close-me".
//
// Chromium comes from Debian's package (/usr/bin/chromium, or CHROMIUM_PATH),
// driven by playwright-core; no browser is downloaded.
//
// The page is served from a tiny HTTP server on 127.0.0.1 (which also serves
// the bundle): Chromium's Local Network Access checks block requests to
// 127.0.0.1 from about:blank or data: URLs, but allow them from a page that
// is itself on loopback. The page is on another port than the Engine.IO
// server, so every polling request is cross-origin and relies on the
// server's CORS headers.
//
// The UMD bundle defines the global `eio` as the browser entry point,
// `(uri, opts) => new Socket(uri, opts)`: it has no `eio.Socket` property,
// so the page calls `eio(url, opts)` (which is `new Socket(url, opts)`).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER_CMD =
  process.env.ENGINEIO_SERVER_CMD || path.join(ROOT, 'target/release/examples/conformance');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const BUNDLE = path.join(ROOT, 'e2e/node_modules/engine.io-client/dist/engine.io.min.js');

const PING_INTERVAL = 300;
const T = { timeout: 30_000 }; // per test

let browser;
let page;
let pageServer;
let server;
let serverExit = null;
let engineUrl;

function startEngineServer() {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `exec ${SERVER_CMD} --port 0`], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(() => {
      reject(new Error(`server printed no 'listening on' line within 30 s: ${JSON.stringify(out)}`));
    }, 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      serverExit = { code, signal };
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening: ${JSON.stringify(out)}`));
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      if (engineUrl) return;
      out += chunk;
      const m = /^listening on (\S+):(\d+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        const host = m[1] === '0.0.0.0' || m[1] === '::' ? '127.0.0.1' : m[1];
        engineUrl = `http://${host.includes(':') ? `[${host}]` : host}:${m[2]}`;
        resolve(child);
      }
    });
  });
}

async function stopEngineServer() {
  if (!server || serverExit) return;
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  const t = setTimeout(() => server.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

// Serves the test page at / and the official bundle at /engine.io.min.js.
async function startPageServer() {
  const bundle = readFileSync(BUNDLE);
  const html =
    '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">' +
    '<title>sockio engine.io e2e</title><script src="/engine.io.min.js"></script>' +
    '<body>sockio engine.io e2e</body>';
  const srv = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
    } else if (url.pathname === '/engine.io.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(bundle);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  return srv;
}

before(
  async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    assert.ok(existsSync(BUNDLE), `engine.io-client bundle not found at ${BUNDLE} (npm ci in e2e/)`);
    // allSettled, so that whatever did start is known to after() and gets
    // stopped even when something else failed to start.
    const started = await Promise.allSettled([
      startEngineServer(),
      startPageServer(),
      chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        timeout: 60_000,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-quic',
        ],
      }),
    ]);
    [server, pageServer, browser] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    server?.on('exit', (code, signal) => {
      serverExit = { code, signal };
    });
    // Never leave the server behind if this process dies abruptly.
    process.once('exit', () => {
      if (server && !serverExit) server.kill('SIGKILL');
    });
    const failure = started.find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
    page = await browser.newPage();
    page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    await page.goto(`http://127.0.0.1:${pageServer.address().port}/`);
    const kind = await page.evaluate(() => typeof globalThis.eio);
    assert.equal(kind, 'function', 'the bundle did not define the global eio');
    await page.evaluate(installHelpers);
  },
  { timeout: 90_000 },
);

after(async () => {
  await Promise.allSettled([
    page?.evaluate(() => globalThis.e2e?.closeAll()),
  ]);
  await Promise.allSettled([
    browser?.close(),
    stopEngineServer(),
    pageServer && new Promise((r) => pageServer.close(r)),
  ]);
});

// Runs inside the page: defines globalThis.e2e, small helpers around the
// bundle's eio(). Every helper has its own deadline so that a failure comes
// back as a message rather than as the test's timeout.
function installHelpers() {
  const sockets = new Set();

  // Opens an Engine.IO socket; resolves once "open" fired. The returned
  // connection records messages, pings, upgrades, errors and the close.
  const open = (url, opts = {}, ms = 10_000) =>
    new Promise((resolve, reject) => {
      const socket = eio(url, opts);
      sockets.add(socket);
      socket.binaryType = 'arraybuffer';
      const c = {
        socket,
        queue: [],
        waiters: [],
        pings: [],
        upgrades: [],
        errors: [],
        handshake: null,
        openTransport: null,
        close: null,
      };
      c.closed = new Promise((r) => {
        socket.on('close', (reason, desc) => {
          sockets.delete(socket);
          // desc: engine.io-client's CloseDetails, e.g. { message: 'xhr poll
          // error', description: 400 } or { description: 'websocket
          // connection closed', context: CloseEvent }.
          c.close = {
            reason,
            message: desc?.message,
            description: desc?.description?.message ?? desc?.description,
            code: desc?.context?.code ?? desc?.context?.statusCode,
            at: Date.now(),
          };
          for (const w of c.waiters.splice(0)) w.reject(new Error(`closed (${reason}) while waiting for a message`));
          r(c.close);
        });
      });
      socket.on('message', (data) => {
        const w = c.waiters.shift();
        if (w) w.resolve(data);
        else c.queue.push(data);
      });
      socket.on('ping', () => c.pings.push(Date.now()));
      socket.on('upgrade', (t) => c.upgrades.push(t.name));
      socket.on('error', (err) => c.errors.push(String(err?.message ?? err)));
      socket.on('handshake', (h) => (c.handshake = h));
      const timer = setTimeout(() => reject(new Error(`no open within ${ms} ms`)), ms);
      c.closed.then((info) => {
        clearTimeout(timer);
        reject(new Error(`closed before open: ${info.reason} ${info.description ?? ''}`));
      });
      socket.once('open', () => {
        clearTimeout(timer);
        c.openTransport = socket.transport.name;
        c.openedAt = Date.now();
        resolve(c);
      });
    });

  // Next message, with a deadline.
  const recv = (c, ms = 10_000) =>
    c.queue.length
      ? Promise.resolve(c.queue.shift())
      : new Promise((resolve, reject) => {
          const w = {
            resolve: (d) => {
              clearTimeout(timer);
              resolve(d);
            },
            reject: (e) => {
              clearTimeout(timer);
              reject(e);
            },
          };
          const timer = setTimeout(() => {
            const i = c.waiters.indexOf(w);
            if (i >= 0) c.waiters.splice(i, 1);
            reject(new Error(`no message within ${ms} ms`));
          }, ms);
          c.waiters.push(w);
        });

  const within = (promise, ms, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
      promise.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });

  // Resolves with the transport name on the socket's first "upgrade".
  const upgraded = (c, ms = 10_000) =>
    c.upgrades.length
      ? Promise.resolve(c.upgrades[0])
      : within(new Promise((r) => c.socket.once('upgrade', (t) => r(t.name))), ms, "'upgrade' event");

  const randomBytes = (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
    return out;
  };

  const sameBytes = (a, b) => {
    if (a.byteLength !== b.byteLength) return `length ${a.byteLength} != ${b.byteLength}`;
    const x = new Uint8Array(a);
    const y = new Uint8Array(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `differs at byte ${i}`;
    return null;
  };

  // null when `got` is an exact echo of `sent`, else what is wrong.
  const compare = (sent, got) => {
    if (typeof sent === 'string') {
      if (typeof got !== 'string') return `text echoed as ${Object.prototype.toString.call(got)}`;
      if (got.length !== sent.length) return `text length ${got.length} != ${sent.length}`;
      return got === sent ? null : 'text differs';
    }
    if (!(got instanceof ArrayBuffer)) return `binary echoed as ${typeof got === 'string' ? 'text' : Object.prototype.toString.call(got)}`;
    return sameBytes(got, sent);
  };

  const echo = async (c, message) => {
    c.socket.send(message);
    return compare(message, await recv(c));
  };

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const closeAll = () => {
    for (const s of sockets) s.close();
    sockets.clear();
  };

  globalThis.e2e = { open, recv, within, upgraded, randomBytes, sameBytes, compare, echo, sleep, closeAll };
}

// Evaluate `fn(arg)` in the page (`fn` runs in the browser; the test timeout
// bounds it). Browser console errors logged meanwhile (Chromium explains
// failed requests there, e.g. CORS refusals) are added to errors and printed.
const consoleErrors = [];
async function inPage(fn, arg) {
  const mark = consoleErrors.length;
  const logged = () => consoleErrors.slice(mark);
  try {
    return await page.evaluate(fn, arg);
  } catch (err) {
    if (logged().length) err.message += `\nbrowser console:\n${logged().join('\n')}`;
    throw err;
  } finally {
    for (const line of logged()) process.stderr.write(`browser console: ${line}\n`);
  }
}

const MODES = {
  'polling then upgrade': {},
  'websocket only': { transports: ['websocket'] },
  'polling only': { upgrade: false },
};

describe('engine.io-client browser bundle in Chromium', () => {
  test('the page is cross-origin to the server and the bundle is 6.6.x', T, async () => {
    const origin = await inPage(() => location.origin, null);
    assert.match(origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(origin, engineUrl, 'the page must be cross-origin to exercise CORS');
    assert.match(readFileSync(BUNDLE, 'utf8').slice(0, 200), /Engine\.IO v6\.6\./);
  });

  test('connects over polling, upgrades to WebSocket, echoes text and 64 KiB binary byte-exact', T, async () => {
    const r = await inPage(async (url) => {
      const c = await e2e.open(url, { path: '/engine.io/' });
      const out = {
        openTransport: c.openTransport,
        upgrades: c.handshake?.upgrades,
        pingInterval: c.handshake?.pingInterval,
        pingTimeout: c.handshake?.pingTimeout,
        problems: [],
      };
      out.upgradeEvent = await e2e.upgraded(c);
      out.openToUpgradeMs = Date.now() - c.openedAt;
      out.transportAfterUpgrade = c.socket.transport.name;
      const text = 'héllo from chromium ✓ 🚀';
      const p1 = await e2e.echo(c, text);
      if (p1) out.problems.push(`text: ${p1}`);
      const bin = e2e.randomBytes(64 * 1024).buffer;
      const p2 = await e2e.echo(c, bin);
      if (p2) out.problems.push(`64 KiB ArrayBuffer: ${p2}`);
      out.transportAtEnd = c.socket.transport.name;
      out.errors = c.errors;
      out.closedEarly = c.close;
      c.socket.close();
      out.close = await e2e.within(c.closed, 5000, 'close');
      return out;
    }, engineUrl);
    process.stderr.write(`  upgrade: 'upgrade' fired ${r.openToUpgradeMs} ms after 'open'\n`);
    assert.equal(r.openTransport, 'polling', 'must open on polling');
    assert.deepEqual(r.upgrades, ['websocket']);
    assert.equal(r.pingInterval, PING_INTERVAL);
    assert.equal(r.pingTimeout, 200);
    assert.equal(r.upgradeEvent, 'websocket');
    assert.equal(r.transportAfterUpgrade, 'websocket');
    assert.equal(r.transportAtEnd, 'websocket');
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.errors, []);
    assert.equal(r.closedEarly, null);
    assert.equal(r.close.reason, 'forced close');
  });

  test('WebSocket only: echoes text', T, async () => {
    const r = await inPage(async (url) => {
      const c = await e2e.open(url, { path: '/engine.io/', transports: ['websocket'] });
      const out = { openTransport: c.openTransport, upgrades: c.handshake?.upgrades, problems: [] };
      for (const m of ['hello over websocket', 'héllo wörld — 日本語 🚀🦀', 'x'.repeat(20_000)]) {
        const p = await e2e.echo(c, m);
        if (p) out.problems.push(`${JSON.stringify(m.slice(0, 20))}: ${p}`);
      }
      out.transportAtEnd = c.socket.transport.name;
      out.upgradeEvents = c.upgrades;
      out.errors = c.errors;
      c.socket.close();
      out.close = await e2e.within(c.closed, 5000, 'close');
      return out;
    }, engineUrl);
    assert.equal(r.openTransport, 'websocket');
    assert.deepEqual(r.upgrades, []);
    assert.deepEqual(r.problems, []);
    assert.equal(r.transportAtEnd, 'websocket');
    assert.deepEqual(r.upgradeEvents, []);
    assert.deepEqual(r.errors, []);
    assert.equal(r.close.reason, 'forced close');
  });

  test('polling only (upgrade: false): 50 messages echoed in order, stays on polling', T, async () => {
    const r = await inPage(async (url) => {
      const c = await e2e.open(url, { path: '/engine.io/', upgrade: false });
      const out = { openTransport: c.openTransport, upgrades: c.handshake?.upgrades, problems: [] };
      // Mostly text, every fifth one binary (base64 in the polling payload).
      const sent = Array.from({ length: 50 }, (_, i) =>
        i % 5 === 4 ? e2e.randomBytes(i * 37).buffer : `message ${i} ${'é'.repeat(i)}`,
      );
      for (const m of sent) c.socket.send(m);
      for (let i = 0; i < sent.length; i++) {
        let got;
        try {
          got = await e2e.recv(c);
        } catch (err) {
          out.problems.push(`message ${i}: ${err.message}`);
          break;
        }
        const p = e2e.compare(sent[i], got);
        if (p) out.problems.push(`message ${i}: ${p}`);
      }
      // Across a heartbeat: still polling, never upgraded.
      await e2e.sleep(400);
      const p = await e2e.echo(c, 'still polling');
      if (p) out.problems.push(`after a heartbeat: ${p}`);
      out.transportAtEnd = c.socket.transport.name;
      out.upgradeEvents = c.upgrades;
      out.errors = c.errors;
      c.socket.close();
      out.close = await e2e.within(c.closed, 5000, 'close');
      return out;
    }, engineUrl);
    assert.equal(r.openTransport, 'polling');
    assert.deepEqual(r.upgrades, ['websocket'], 'the server still offers the upgrade');
    assert.deepEqual(r.problems, []);
    assert.equal(r.transportAtEnd, 'polling');
    assert.deepEqual(r.upgradeEvents, []);
    assert.deepEqual(r.errors, []);
    assert.equal(r.close.reason, 'forced close');
  });

  for (const [mode, opts] of Object.entries(MODES)) {
    test(`'close-me' makes the server close the session: the page's socket fires close (${mode})`, T, async () => {
      const r = await inPage(
        async ({ url, opts, waitUpgrade }) => {
          const c = await e2e.open(url, { path: '/engine.io/', ...opts });
          if (waitUpgrade) await e2e.upgraded(c);
          const out = { transport: c.socket.transport.name, problems: [] };
          const p = await e2e.echo(c, 'before');
          if (p) out.problems.push(`before: ${p}`);
          const sentAt = Date.now();
          c.socket.send('close-me');
          const info = await e2e.within(c.closed, 5000, "'close' event");
          out.close = { reason: info.reason, message: info.message, description: info.description, code: info.code };
          out.ms = info.at - sentAt;
          out.echoedAfter = c.queue.slice(); // nothing may come back
          out.errors = c.errors;
          out.readyState = c.socket.readyState;
          return out;
        },
        { url: engineUrl, opts, waitUpgrade: mode === 'polling then upgrade' },
      );
      process.stderr.write(`  close-me (${mode}, on ${r.transport}): ${JSON.stringify(r.close)} after ${r.ms} ms\n`);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(r.echoedAfter, [], 'close-me must not be echoed');
      assert.equal(r.readyState, 'closed');
      // The reference always ends with reason "transport close": on
      // WebSocket the server closes the connection; on polling it answers
      // the long-poll GET with a close packet "1" ("transport closed by the
      // server"), and when no GET is pending at that moment (the client's
      // next GET and its "close-me" POST race) it keeps the session until
      // the next GET arrives and answers that one with "1". (A server that
      // drops the session at once answers that GET 400 "Session ID
      // unknown" and the client closes with "transport error".)
      assert.equal(r.close.reason, 'transport close', `close: ${JSON.stringify(r.close)}`);
      assert.deepEqual(r.errors, []);
    });
  }

  for (const [mode, opts] of Object.entries(MODES)) {
    test(`heartbeat: stays open for 2 s, answering pings (${mode})`, T, async () => {
      const r = await inPage(
        async ({ url, opts }) => {
          const c = await e2e.open(url, { path: '/engine.io/', ...opts });
          const start = Date.now();
          await e2e.sleep(2000);
          const out = {
            transport: c.socket.transport.name,
            pings: c.pings.filter((t) => t >= start).map((t) => t - start),
            closed: c.close,
            errors: c.errors,
            problems: [],
          };
          if (!c.close) {
            const p = await e2e.echo(c, 'alive').catch((err) => err.message);
            if (p) out.problems.push(`after 2 s: ${p}`);
            c.socket.close();
          }
          return out;
        },
        { url: engineUrl, opts },
      );
      process.stderr.write(`  heartbeat (${mode}, on ${r.transport}): pings at ${JSON.stringify(r.pings)} ms\n`);
      assert.equal(r.closed, null, `closed during the 2 s: ${JSON.stringify(r.closed)}`);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(r.errors, []);
      // pingInterval 300 ms: 6 pings in 2 s; allow for a slow machine.
      assert.ok(r.pings.length >= 4, `${r.pings.length} pings in 2 s: ${JSON.stringify(r.pings)}`);
      for (let i = 1; i < r.pings.length; i++) {
        const gap = r.pings[i] - r.pings[i - 1];
        assert.ok(gap >= PING_INTERVAL - 100, `ping gap ${gap} ms: ${JSON.stringify(r.pings)}`);
      }
    });
  }

  test('the server is still running after all of the above', T, () => {
    assert.equal(serverExit, null, `server exited: ${JSON.stringify(serverExit)}`);
  });
});
