// Interop: Chromium's native WebSocket against the sockio-ws echo server.
// Run: node --test e2e/ws-browser/echo.test.mjs   (or e2e/ws-browser/run)
//
// Two server instances are started (see ../ws-node/harness.mjs for the
// command and ECHO_SERVER_CMD):
//   - the command as is: Chromium always offers permessage-deflate, the
//     server must accept it;
//   - the command with `--no-deflate` appended: no extension negotiated.
// Chromium comes from Debian's package (/usr/bin/chromium, or
// CHROMIUM_PATH), driven by playwright-core; no browser is downloaded.
//
// The page is served from a tiny HTTP server on 127.0.0.1: Chromium's Local
// Network Access checks block ws://127.0.0.1 from about:blank or data: URLs
// (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS), but allow it from a page
// that is itself on loopback.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from '../ws-node/harness.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const T_TEST = 30_000;

let browser;
let page;
let httpServer;
const servers = {};

async function startPageServer() {
  const srv = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end('<!doctype html><meta charset="utf-8"><title>sockio e2e</title><body>sockio e2e</body>');
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
    // allSettled, so that whatever did start is known to after() and gets
    // stopped even when something else failed to start.
    const started = await Promise.allSettled([
      startServer(),
      startServer({ extraArgs: ['--no-deflate'] }),
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
    [servers.deflate, servers.plain, httpServer, browser] = started.map((r) =>
      r.status === 'fulfilled' ? r.value : undefined,
    );
    const failure = started.find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
    page = await browser.newPage();
    page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    await page.goto(`http://127.0.0.1:${httpServer.address().port}/`);
    await page.evaluate(installHelpers);
  },
  { timeout: 90_000 },
);

after(async () => {
  await Promise.allSettled([
    browser?.close(),
    servers.deflate?.stop(),
    servers.plain?.stop(),
    httpServer && new Promise((r) => httpServer.close(r)),
  ]);
});

// Runs inside the page: defines globalThis.e2e with small WebSocket helpers.
function installHelpers() {
  const open = (url) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      const queue = [];
      const waiters = [];
      ws.onmessage = (e) => {
        const w = waiters.shift();
        if (w) w.resolve(e.data);
        else queue.push(e.data);
      };
      const closed = new Promise((r) => {
        ws.onclose = (e) => {
          for (const w of waiters.splice(0)) w.reject(new Error(`closed ${e.code} while waiting for a message`));
          r({ code: e.code, reason: e.reason, wasClean: e.wasClean });
        };
      });
      ws.onerror = () => reject(new Error(`WebSocket error connecting to ${url}`));
      ws.onopen = () =>
        resolve({
          ws,
          closed,
          recv: () =>
            queue.length
              ? Promise.resolve(queue.shift())
              : new Promise((res, rej) => waiters.push({ resolve: res, reject: rej })),
        });
    });

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

  // Echo `message`; returns null when the echo is identical, else a problem.
  const echo = async (c, message) => {
    c.ws.send(message);
    const got = await c.recv();
    if (typeof message === 'string') {
      if (typeof got !== 'string') return 'text echoed as binary';
      if (got.length !== message.length) return `text length ${got.length} != ${message.length}`;
      return got === message ? null : 'text differs';
    }
    if (!(got instanceof ArrayBuffer)) return 'binary echoed as text';
    const sent = message instanceof ArrayBuffer ? message : message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength);
    return sameBytes(got, sent);
  };

  globalThis.e2e = { open, randomBytes, sameBytes, echo };
}

// Evaluate `fn(arg)` in the page (`fn` runs in the browser; the test timeout
// bounds it). Browser console errors logged meanwhile (Chromium explains
// failed connections there, e.g. "Invalid frame header") are added to errors
// and printed.
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

const VARIANTS = [
  {
    name: 'permessage-deflate (Chromium default offer)',
    server: () => servers.deflate,
    checkExtensions: (ext) => assert.match(ext, /^permessage-deflate\b/, `extensions = ${JSON.stringify(ext)}`),
  },
  {
    name: 'server started with --no-deflate',
    server: () => servers.plain,
    checkExtensions: (ext) => assert.equal(ext, ''),
  },
];

for (const v of VARIANTS) {
  describe(`chromium WebSocket, ${v.name}`, () => {
    test('handshake and negotiated extensions', { timeout: T_TEST }, async () => {
      const r = await inPage(async (url) => {
        const c = await e2e.open(url);
        const info = { extensions: c.ws.extensions, protocol: c.ws.protocol, readyState: c.ws.readyState };
        c.ws.close(1000);
        await c.closed;
        return info;
      }, v.server().url);
      assert.equal(r.readyState, 1);
      assert.equal(r.protocol, '');
      v.checkExtensions(r.extensions);
    });

    test('text echo (ASCII, unicode, empty)', { timeout: T_TEST }, async () => {
      const problems = await inPage(async (url) => {
        const c = await e2e.open(url);
        const out = [];
        for (const m of ['hello from chromium', 'héllo wörld — 日本語 🚀🦀', '', '€'.repeat(42), '', 'x'.repeat(70000)]) {
          const label = JSON.stringify(m.slice(0, 20));
          try {
            const p = await e2e.echo(c, m);
            if (p) out.push(`${label}: ${p}`);
          } catch (err) {
            out.push(`${label}: ${err.message}`);
            return out;
          }
        }
        c.ws.close(1000);
        await c.closed;
        return out;
      }, v.server().url);
      assert.deepEqual(problems, []);
    });

    test('binary echo (ArrayBuffer ~100 KB, small, empty)', { timeout: T_TEST }, async () => {
      const problems = await inPage(async (url) => {
        const c = await e2e.open(url);
        const out = [];
        const cases = {
          '100 KB random': e2e.randomBytes(100 * 1024).buffer,
          '6 bytes': new Uint8Array([0, 1, 2, 3, 254, 255]).buffer,
          empty: new ArrayBuffer(0),
          '64 KiB typed-array view': e2e.randomBytes(65536),
        };
        for (const [name, m] of Object.entries(cases)) {
          try {
            const p = await e2e.echo(c, m);
            if (p) out.push(`${name}: ${p}`);
          } catch (err) {
            out.push(`${name}: ${err.message}`);
            return out;
          }
        }
        c.ws.close(1000);
        await c.closed;
        return out;
      }, v.server().url);
      assert.deepEqual(problems, []);
    });

    test('1 MiB text and 1 MiB binary', { timeout: T_TEST }, async () => {
      const problems = await inPage(async (url) => {
        const c = await e2e.open(url);
        const out = [];
        const text = 'sockio '.repeat(150000).slice(0, 1 << 20);
        const p1 = await e2e.echo(c, text);
        if (p1) out.push(`text: ${p1}`);
        const p2 = await e2e.echo(c, e2e.randomBytes(1 << 20).buffer);
        if (p2) out.push(`binary: ${p2}`);
        c.ws.close(1000);
        await c.closed;
        return out;
      }, v.server().url);
      assert.deepEqual(problems, []);
    });

    test('200 pipelined messages come back in order', { timeout: T_TEST }, async () => {
      const problems = await inPage(async (url) => {
        const c = await e2e.open(url);
        const sent = [];
        for (let i = 0; i < 200; i++) {
          const m = i % 2 ? `message ${i} ${'y'.repeat(i * 7)}` : e2e.randomBytes(i * 13).buffer;
          sent.push(m);
          c.ws.send(m);
        }
        const out = [];
        for (let i = 0; i < sent.length; i++) {
          const got = await c.recv();
          const m = sent[i];
          const p =
            typeof m === 'string'
              ? (got === m ? null : 'text differs')
              : got instanceof ArrayBuffer
                ? e2e.sameBytes(got, m)
                : 'binary echoed as text';
          if (p) out.push(`message ${i}: ${p}`);
        }
        c.ws.close(1000);
        await c.closed;
        return out;
      }, v.server().url);
      assert.deepEqual(problems, []);
    });

    for (const [code, reason] of [
      [1000, 'normal'],
      [4000, 'custom ✓'],
    ]) {
      test(`client-initiated close ${code} is echoed cleanly`, { timeout: T_TEST }, async () => {
        const r = await inPage(
          async ({ url, code, reason }) => {
            const c = await e2e.open(url);
            c.ws.close(code, reason);
            return c.closed;
          },
          { url: v.server().url, code, reason },
        );
        assert.equal(r.code, code);
        assert.equal(r.wasClean, true, 'close handshake must complete cleanly');
        // Echoing the reason is optional (RFC 6455 5.5.1): same reason or none.
        assert.ok(r.reason === reason || r.reason === '', `close reason ${JSON.stringify(r.reason)}`);
      });
    }

    test('server-initiated close via "!close 4001 bye"', { timeout: T_TEST }, async () => {
      const r = await inPage(async (url) => {
        const c = await e2e.open(url);
        let echoed = false;
        c.ws.addEventListener('message', () => {
          echoed = true;
        });
        c.ws.send('!close 4001 bye');
        const closed = await c.closed;
        return { ...closed, echoed };
      }, v.server().url);
      assert.deepEqual(r, { code: 4001, reason: 'bye', wasClean: true, echoed: false });
    });
  });
}
