// examples/rooms with the official socket.io-client: each test starts the
// example on an ephemeral port and drives it as a browser app would.
// Run: e2e/rooms-example/run
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';

const BIN = path.join(process.env.ROOT, 'target/release/rooms');

function startRooms() {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/rooms on (http:\/\/[0-9.]+:\d+)/);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`rooms exited with ${code}: ${out}`)));
  });
}

const once = (socket, event) => new Promise((resolve) => socket.once(event, (...args) => resolve(args)));

describe('examples/rooms', () => {
  let server;
  const clients = [];
  const client = (auth = { token: 'letmein' }, opts = {}) => {
    const socket = io(server.url + '/chat', { auth, forceNew: true, reconnection: false, ...opts });
    clients.push(socket);
    return socket;
  };
  const connected = async (socket) => {
    if (!socket.connected) await once(socket, 'connect');
    return socket;
  };
  before(async () => { server = await startRooms(); });
  after(() => {
    for (const c of clients) c.close();
    server?.child.kill();
  });

  test('the page is served at /', async () => {
    const res = await fetch(server.url + '/');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /sockio rooms/);
  });

  for (const [name, auth] of [['a wrong token', { token: 'nope' }], ['no token', {}], ['a token of another type', { token: 42 }]]) {
    test(`${name} is refused with unauthorized and its reason`, async () => {
      const socket = client(auth);
      const [err] = await once(socket, 'connect_error');
      assert.equal(err.message, 'unauthorized');
      assert.deepEqual(err.data, { reason: 'bad token' });
      assert.equal(socket.connected, false);
    });
  }

  test('join acks the sorted rooms, own id left out', async () => {
    const socket = await connected(client());
    assert.deepEqual(await socket.emitWithAck('join', 'zebra'), ['zebra']);
    assert.deepEqual(await socket.emitWithAck('join', 'apple'), ['apple', 'zebra']);
    assert.deepEqual(await socket.emitWithAck('join', 'apple'), ['apple', 'zebra']);
  });

  test('say reaches the others in the room, not the sender nor other rooms', async () => {
    const [a, b, c] = await Promise.all([client(), client(), client()].map(connected));
    await a.emitWithAck('join', 'r1');
    await b.emitWithAck('join', 'r1');
    await c.emitWithAck('join', 'r2');
    const heard = { a: [], c: [] };
    a.on('said', (m) => heard.a.push(m));
    c.on('said', (m) => heard.c.push(m));
    const got = once(b, 'said');
    assert.equal(await a.emitWithAck('say', { room: 'r1', text: 'hello' }), true);
    const [msg] = await got;
    assert.deepEqual(msg, { room: 'r1', text: 'hello', from: a.id });
    // A round trip on a and c after the broadcast: anything sent to them
    // would have arrived before its answer.
    await a.emitWithAck('join', 'r1');
    await c.emitWithAck('join', 'r2');
    assert.deepEqual(heard, { a: [], c: [] });
  });

  for (const [name, payload] of [['a string', 'hello'], ['a missing text', { room: 'r1' }], ['a number room', { room: 1, text: 'x' }], ['nothing', undefined]]) {
    test(`say with ${name} is acked with an error and sends nothing`, async () => {
      const [a, b] = await Promise.all([client(), client()].map(connected));
      await a.emitWithAck('join', 'bad');
      await b.emitWithAck('join', 'bad');
      const heard = [];
      b.on('said', (m) => heard.push(m));
      const reply = payload === undefined ? await a.emitWithAck('say') : await a.emitWithAck('say', payload);
      assert.equal(typeof reply.error, 'string');
      assert.ok(reply.error.length > 0 && reply.error.length < 100, reply.error);
      await b.emitWithAck('join', 'bad');
      assert.deepEqual(heard, []);
    });
  }

  test('quiz: the answer comes back as the verdict', async () => {
    const socket = await connected(client());
    socket.on('question', (q, ack) => { assert.equal(q, '2+2?'); ack(4); });
    const verdict = once(socket, 'verdict');
    socket.emit('quiz');
    assert.deepEqual(await verdict, [4]);
  });

  test('quiz: no answer within 1 s gives "timeout"', { timeout: 10_000 }, async () => {
    const socket = await connected(client());
    const asked = once(socket, 'question');
    socket.on('question', () => { /* never answers */ });
    const verdict = once(socket, 'verdict');
    const start = Date.now();
    socket.emit('quiz');
    await asked;
    assert.deepEqual(await verdict, ['timeout']);
    const waited = Date.now() - start;
    assert.ok(waited >= 900 && waited < 5_000, `verdict after ${waited} ms`);
  });

  test('tick reaches every socket of /chat with a growing counter', { timeout: 10_000 }, async () => {
    const [a, b] = await Promise.all([client(), client()].map(connected));
    const [first] = await once(a, 'tick');
    const [second] = await once(a, 'tick');
    assert.ok(Number.isInteger(first) && first >= 1);
    assert.equal(second, first + 1);
    const [onB] = await once(b, 'tick');
    assert.ok(onB >= second);
  });

  test('the main namespace has no handlers: it connects and gets no tick', { timeout: 10_000 }, async () => {
    const socket = io(server.url, { forceNew: true, reconnection: false });
    clients.push(socket);
    await connected(socket);
    const ticks = [];
    socket.on('tick', (n) => ticks.push(n));
    const chat = await connected(client());
    await once(chat, 'tick');
    await once(chat, 'tick');
    assert.deepEqual(ticks, []);
  });
});
