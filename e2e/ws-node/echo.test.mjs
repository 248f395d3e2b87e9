// Interop: Node `ws` client against the sockio-ws echo server.
// Run: node --test e2e/ws-node/echo.test.mjs   (or e2e/ws-node/run)
// Server command: see harness.mjs (ECHO_SERVER_CMD overrides it).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startServer, withTimeout } from './harness.mjs';

const MiB = 1024 * 1024;
const T_SHORT = 10_000;
const T_LONG = 90_000;

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  if (server) await server.stop();
});

// permessage-deflate client configurations. `threshold: 0` makes ws compress
// every message, however small (it only applies without context takeover).
const MODES = [
  {
    name: 'no compression',
    pmd: false,
    check(client) {
      assert.equal(client.ws.extensions, '');
      assert.equal(client.extHeader, '', 'server must not answer with extensions it was not offered');
    },
  },
  {
    name: 'permessage-deflate',
    pmd: { threshold: 0 },
    check(client) {
      assert.equal(client.ws.extensions, 'permessage-deflate');
      assert.match(client.extHeader, /^\s*permessage-deflate\b/);
    },
  },
  {
    name: 'permessage-deflate no_context_takeover',
    pmd: { threshold: 0, clientNoContextTakeover: true, serverNoContextTakeover: true },
    check(client) {
      assert.equal(client.ws.extensions, 'permessage-deflate');
      assert.match(client.extHeader, /^\s*permessage-deflate\b/);
      // RFC 7692 7.1.1.1: a server accepting an offer with
      // server_no_context_takeover MUST include it in its response.
      assert.match(client.extHeader, /server_no_context_takeover/);
    },
  },
];

/** A connected `ws` client with an in-order queue of messages and pongs. */
class Client {
  static async open(url, pmd) {
    const c = new Client(url, pmd);
    await withTimeout(c.opened, T_SHORT, `connect to ${url}`);
    return c;
  }

  constructor(url, pmd) {
    this.ws = new WebSocket(url, { perMessageDeflate: pmd, maxPayload: 64 * MiB });
    this.extHeader = undefined;
    this.messages = [];
    this.pongs = [];
    this.waiters = { message: [], pong: [] };
    this.error = null;
    this.ws.on('upgrade', (res) => {
      this.extHeader = res.headers['sec-websocket-extensions'] ?? '';
    });
    this.ws.on('message', (data, isBinary) => this.#push('message', this.messages, { data, isBinary }));
    this.ws.on('pong', (data) => this.#push('pong', this.pongs, data));
    this.ws.on('error', (err) => {
      this.error = err;
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`unexpected HTTP response ${res.statusCode}`)),
      );
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        const info = { code, reason: reason.toString('utf8') };
        for (const kind of Object.keys(this.waiters)) {
          for (const w of this.waiters[kind].splice(0)) {
            w.reject(new Error(`connection closed (${code} ${info.reason}) while waiting for ${kind}`));
          }
        }
        resolve(info);
      });
    });
  }

  #push(kind, queue, item) {
    const w = this.waiters[kind].shift();
    if (w) w.resolve(item);
    else queue.push(item);
  }

  #next(kind, queue, ms) {
    if (queue.length > 0) return Promise.resolve(queue.shift());
    if (this.ws.readyState === WebSocket.CLOSED) {
      return Promise.reject(new Error(`connection already closed while waiting for ${kind}`));
    }
    const p = new Promise((resolve, reject) => this.waiters[kind].push({ resolve, reject }));
    return withTimeout(p, ms, `waiting for ${kind}`);
  }

  recv(ms = T_SHORT) {
    return this.#next('message', this.messages, ms);
  }

  nextPong(ms = T_SHORT) {
    return this.#next('pong', this.pongs, ms);
  }

  send(data, opts = {}) {
    return new Promise((resolve, reject) => this.ws.send(data, opts, (err) => (err ? reject(err) : resolve())));
  }

  async closeWith(code, reason, ms = T_SHORT) {
    if (code === undefined) this.ws.close();
    else this.ws.close(code, reason);
    return withTimeout(this.closed, ms, `close handshake (${code})`);
  }

  dispose() {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}

async function withClient(mode, fn) {
  const c = await Client.open(server.url, mode.pmd);
  try {
    return await fn(c);
  } finally {
    c.dispose();
  }
}

/** ASCII text of exactly n bytes (random, so poorly compressible). */
function asciiText(n) {
  return randomBytes(Math.ceil((n * 3) / 4) + 3)
    .toString('base64')
    .slice(0, n);
}

function assertSameBuffer(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  if (!actual.equals(expected)) {
    let i = 0;
    while (i < actual.length && actual[i] === expected[i]) i++;
    assert.fail(`${what}: contents differ first at byte ${i} of ${expected.length}`);
  }
}

// RFC 6455 5.5.1 / 7.1.5: the answer to a close frame typically echoes the
// status code; echoing the reason is optional. Accept the same reason or none.
function assertEchoedReason(got, sent) {
  assert.ok(got === sent || got === '', `close reason: got ${JSON.stringify(got)}, sent ${JSON.stringify(sent)}`);
}

async function echoText(c, text, ms) {
  await c.send(text);
  const m = await c.recv(ms);
  assert.equal(m.isBinary, false, 'echo of a text message must be text');
  assertSameBuffer(m.data, Buffer.from(text, 'utf8'), 'text echo');
}

async function echoBinary(c, bytes, ms) {
  await c.send(bytes, { binary: true });
  const m = await c.recv(ms);
  assert.equal(m.isBinary, true, 'echo of a binary message must be binary');
  assertSameBuffer(m.data, bytes, 'binary echo');
}

const SIZES = [125, 126, 127, 65535, 65536, 65537, 16 * MiB];
const sizeName = (n) => (n >= MiB ? `${n / MiB} MiB` : `${n} B`);

for (const mode of MODES) {
  describe(`ws client, ${mode.name}`, () => {
    test('handshake negotiates the expected extensions', { timeout: T_SHORT }, () =>
      withClient(mode, async (c) => mode.check(c)),
    );

    test('text echo', { timeout: T_SHORT }, () =>
      withClient(mode, async (c) => {
        await echoText(c, 'hello, sockio');
        await echoText(c, 'a second message on the same connection');
      }),
    );

    test('binary echo', { timeout: T_SHORT }, () =>
      withClient(mode, async (c) => {
        await echoBinary(c, Buffer.from([0, 1, 2, 3, 0xfe, 0xff]));
        await echoBinary(c, randomBytes(1000));
      }),
    );

    test('empty text message', { timeout: T_SHORT }, () => withClient(mode, (c) => echoText(c, '')));

    test('empty binary message', { timeout: T_SHORT }, () =>
      withClient(mode, (c) => echoBinary(c, Buffer.alloc(0))),
    );

    for (const n of SIZES) {
      const ms = n >= MiB ? T_LONG : T_SHORT;
      test(`text message of ${sizeName(n)}`, { timeout: ms }, () =>
        withClient(mode, (c) => echoText(c, asciiText(n), ms)),
      );
      test(`binary message of ${sizeName(n)}`, { timeout: ms }, () =>
        withClient(mode, (c) => echoBinary(c, randomBytes(n), ms)),
      );
    }

    test('compressible 1 MiB text and binary', { timeout: T_LONG }, () =>
      withClient(mode, async (c) => {
        await echoText(c, 'sockio '.repeat(Math.ceil(MiB / 7)).slice(0, MiB), T_LONG);
        await echoBinary(c, Buffer.alloc(MiB, 0x61), T_LONG);
      }),
    );

    test('unicode text', { timeout: T_SHORT }, () =>
      withClient(mode, async (c) => {
        await echoText(c, 'héllo wörld — ünïcödé ✓ 日本語テキスト 🚀🦀 \u0000 nul and \uFFFD');
        await echoText(c, '€'.repeat(42)); // 126 bytes: first 16-bit length
        await echoText(c, '𝄞'.repeat(20000)); // 80000 bytes of 4-byte sequences
      }),
    );

    test('empty messages between non-empty ones on one connection', { timeout: T_SHORT }, () =>
      withClient(mode, async (c) => {
        // With context takeover, an empty compressed message must still be a
        // valid DEFLATE block (RFC 7692 7.2.3.6: payload 0x00), not an empty
        // payload, or the peer's inflater desynchronises.
        await echoText(c, 'a');
        await echoText(c, '');
        await echoText(c, 'b');
        await echoBinary(c, Buffer.alloc(0));
        await echoBinary(c, Buffer.from('c'));
        await echoText(c, '');
        await echoText(c, '');
        await echoBinary(c, Buffer.alloc(0));
        await echoText(c, 'd'.repeat(200));
      }),
    );

    test('consecutive messages keep their order and types', { timeout: T_SHORT }, () =>
      withClient(mode, async (c) => {
        const sent = [];
        for (let i = 0; i < 50; i++) {
          const binary = i % 3 === 0;
          const data = binary ? randomBytes(i * 37) : `message #${i} ${'x'.repeat(i * 11)}`;
          sent.push({ binary, data: binary ? data : Buffer.from(data) });
          c.ws.send(data, { binary });
        }
        for (const [i, s] of sent.entries()) {
          const m = await c.recv();
          assert.equal(m.isBinary, s.binary, `message ${i} type`);
          assertSameBuffer(m.data, s.data, `message ${i}`);
        }
      }),
    );

    describe('fragmented messages', () => {
      test('text in three fragments', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          await c.send('Hello, ', { fin: false });
          await c.send('fragmented ', { fin: false });
          await c.send('world', { fin: true });
          const m = await c.recv();
          assert.equal(m.isBinary, false);
          assert.equal(m.data.toString('utf8'), 'Hello, fragmented world');
        }),
      );

      test('binary fragments across 16-bit and 64-bit length forms', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          const parts = [randomBytes(10), randomBytes(300), randomBytes(70000), randomBytes(1)];
          for (const [i, p] of parts.entries()) {
            await c.send(p, { binary: true, fin: i === parts.length - 1 });
          }
          const m = await c.recv();
          assert.equal(m.isBinary, true);
          assertSameBuffer(m.data, Buffer.concat(parts), 'reassembled binary');
        }),
      );

      test('UTF-8 sequence split across fragments', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          const full = Buffer.from('price: 5€ 🚀', 'utf8');
          const euro = full.indexOf(0xe2);
          const rocket = full.indexOf(0xf0);
          const cuts = [0, euro + 1, euro + 2, rocket + 1, rocket + 3, full.length];
          for (let i = 0; i < cuts.length - 1; i++) {
            await c.send(full.subarray(cuts[i], cuts[i + 1]), { binary: false, fin: i === cuts.length - 2 });
          }
          const m = await c.recv();
          assert.equal(m.isBinary, false);
          assertSameBuffer(m.data, full, 'reassembled text');
        }),
      );

      test('empty first and last fragments', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          await c.send('', { fin: false });
          await c.send('abc', { fin: false });
          await c.send('', { fin: true });
          const m = await c.recv();
          assert.equal(m.isBinary, false);
          assert.equal(m.data.toString('utf8'), 'abc');
        }),
      );

      test('ping interleaved between fragments', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          await c.send('before-ping ', { fin: false });
          c.ws.ping(Buffer.from('mid-message'));
          await c.send('after-ping', { fin: true });
          const pong = await c.nextPong();
          assert.equal(pong.toString('utf8'), 'mid-message');
          const m = await c.recv();
          assert.equal(m.isBinary, false);
          assert.equal(m.data.toString('utf8'), 'before-ping after-ping');
        }),
      );
    });

    describe('ping / pong', () => {
      test('ping with payload gets a pong with the same payload', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          c.ws.ping(Buffer.from('ping-payload-123'));
          assert.equal((await c.nextPong()).toString('utf8'), 'ping-payload-123');
        }),
      );

      test('ping with empty payload', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          c.ws.ping();
          assert.equal((await c.nextPong()).length, 0);
        }),
      );

      test('ping with 125-byte binary payload', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          const payload = randomBytes(125);
          c.ws.ping(payload);
          assertSameBuffer(await c.nextPong(), payload, 'pong payload');
        }),
      );

      test('several pings are answered in order', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          for (let i = 0; i < 5; i++) c.ws.ping(Buffer.from(`p${i}`));
          for (let i = 0; i < 5; i++) assert.equal((await c.nextPong()).toString(), `p${i}`);
        }),
      );

      test('unsolicited pong is ignored', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          c.ws.pong(Buffer.from('unsolicited'));
          await echoText(c, 'still alive');
          assert.equal(c.pongs.length, 0);
        }),
      );
    });

    describe('close handshake', () => {
      for (const [code, reason] of [
        [1000, 'normal'],
        [1001, 'going away'],
        [3000, 'registered'],
        [4999, 'private use, max code'],
        [4000, 'ünïcödé reason ✓'],
        [1000, ''],
      ]) {
        test(`client-initiated close ${code} ${JSON.stringify(reason)} is echoed`, { timeout: T_SHORT }, () =>
          withClient(mode, async (c) => {
            await echoText(c, 'before close');
            const got = await c.closeWith(code, reason);
            assert.equal(got.code, code);
            assertEchoedReason(got.reason, reason);
          }),
        );
      }

      test('client close with 123-byte reason (maximum) is echoed', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          const reason = 'r'.repeat(123);
          const got = await c.closeWith(3001, reason);
          assert.equal(got.code, 3001);
          assertEchoedReason(got.reason, reason);
        }),
      );

      test('client close without status code', { timeout: T_SHORT }, () =>
        withClient(mode, async (c) => {
          const got = await c.closeWith();
          // RFC 6455 7.1.5: no status in the peer's close frame => 1005.
          // A server answering an empty close with 1000 is also fine.
          assert.ok([1005, 1000].includes(got.code), `unexpected close code ${got.code}`);
        }),
      );

      for (const [code, reason] of [
        [4001, 'bye'],
        [1000, 'done'],
        [3999, 'zürich'],
      ]) {
        test(`server-initiated close via "!close ${code} ${reason}"`, { timeout: T_SHORT }, () =>
          withClient(mode, async (c) => {
            await c.send(`!close ${code} ${reason}`);
            const got = await withTimeout(c.closed, T_SHORT, 'server-initiated close');
            assert.equal(got.code, code);
            assert.equal(got.reason, reason);
            assert.equal(c.messages.length, 0, 'the !close command must not be echoed');
          }),
        );
      }

      test('"!close" sent as binary is echoed, not obeyed', { timeout: T_SHORT }, () =>
        withClient(mode, (c) => echoBinary(c, Buffer.from('!close 4001 bye'))),
      );
    });

    test('20 concurrent clients each echo 100 messages', { timeout: T_LONG }, async () => {
      const clients = await Promise.all(Array.from({ length: 20 }, () => Client.open(server.url, mode.pmd)));
      try {
        await Promise.all(
          clients.map(async (c, ci) => {
            mode.check(c);
            const sent = [];
            for (let i = 0; i < 100; i++) {
              const binary = (i + ci) % 2 === 0;
              const size = (i * 97 + ci * 13) % 3000;
              const payload = binary ? randomBytes(size) : `client ${ci} message ${i} ${asciiText(size)}`;
              sent.push({ binary, data: binary ? payload : Buffer.from(payload) });
              c.ws.send(payload, { binary });
            }
            for (const [i, s] of sent.entries()) {
              const m = await c.recv(T_LONG);
              assert.equal(m.isBinary, s.binary, `client ${ci} message ${i} type`);
              assertSameBuffer(m.data, s.data, `client ${ci} message ${i}`);
            }
            const got = await c.closeWith(1000, `client ${ci} done`);
            assert.equal(got.code, 1000);
            assertEchoedReason(got.reason, `client ${ci} done`);
          }),
        );
      } finally {
        for (const c of clients) c.dispose();
      }
    });
  });
}

test('server is still serving after all of the above', { timeout: T_SHORT }, () =>
  withClient(MODES[0], (c) => echoText(c, 'last one')),
);
