// Interop, third part: connection state recovery with the official Node
// `socket.io-client` (4.8.x). The server under test runs with `--recovery`
// (`connectionStateRecovery: {}` in the reference: sessions kept 2 min),
// once with the default parser and once with `--msgpack`.
//
// With recovery on, every event the server sends without an ack request
// carries an offset as its last argument (the client remembers the last one
// and sends it back with its private session id, `pid`, when it connects
// again). A client whose transport dropped gets its socket id, its rooms and
// the events it missed; one that left on purpose, or that the server
// disconnected, gets a new session. As in socket.io-client's own test
// (test/connection-state-recovery.ts), the transport is dropped with
// `socket.io.engine.close()`, which sends no DISCONNECT.
//
// Commands of "/rooms": see the header of e2e/socketio-suite/reference-server.mjs.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import msgpackParser from "socket.io-msgpack-parser";
import {
  SERVER_CMD,
  SKIP_MSGPACK,
  T,
  TRANSPORTS,
  closeSockets,
  cmd,
  connected,
  disconnected,
  open,
  serverReason,
  sorted,
  startServer,
  stopServer,
  take,
  uniq,
  within,
} from "./support.mjs";

afterEach(closeSockets);

// The arguments of the next `event` of `socket`, its offset (a string, last)
// checked and removed.
async function nextWithOffset(socket, event) {
  const args = await socket.nextEvent(event);
  const offset = args.pop();
  assert.equal(typeof offset, "string", `"${event}" carries an offset: ${JSON.stringify(offset)}`);
  assert.ok(offset.length > 0);
  return args;
}

// Removes the unread `event`s of `socket`; their arguments without offsets.
function takeWithoutOffsets(socket, event) {
  return take(socket, event).map((args) => {
    assert.equal(typeof args[args.length - 1], "string", `"${event}" carries an offset`);
    return args.slice(0, -1);
  });
}

// `a` joins `room` and receives one event sent to it (so that the client has
// an offset to come back with).
async function joinAndReceive(a, room, from) {
  await cmd(a, "join", { rooms: [room] });
  await cmd(from, "emit", { to: [room], event: "first", args: [0] });
  assert.deepEqual(await nextWithOffset(a, "first"), [0]);
}

const PARSERS = [
  { name: "default parser", extra: ["--recovery"], opts: {} },
  { name: "msgpack parser", extra: ["--recovery", "--msgpack"], opts: { parser: msgpackParser }, skip: SKIP_MSGPACK },
];

for (const parser of PARSERS) {
  describe(`connection state recovery, ${parser.name}, against ${[SERVER_CMD, ...parser.extra].join(" ")}`, { skip: parser.skip }, () => {
    let server;
    const url = () => server.url;

    before(async () => {
      server = await startServer(parser.extra);
    });

    after(async () => {
      await stopServer(server);
    });

    for (const [name, transport] of Object.entries(TRANSPORTS)) {
      const opts = { ...transport, ...parser.opts };

      describe(`recovery (${name})`, () => {
        it("a dropped transport: same id, recovered, the events it missed (room, all, its id), still in its room", T, async () => {
          const [R, OTHER] = [uniq("r"), uniq("other")];
          const a = await open(url(), "/rooms", opts);
          const b = await open(url(), "/rooms", opts);
          assert.equal(a.recovered, false);
          await cmd(b, "join", { rooms: [OTHER] });
          await joinAndReceive(a, R, b);
          const [id, engineId] = [a.id, a.io.engine.id];
          const gone = disconnected(a);
          a.io.engine.close();
          assert.equal((await gone)[0], "forced close");
          assert.equal(await serverReason(url(), id, opts), "transport close");
          // while a is away (the server knows it is)
          await cmd(b, "emit", { to: [R], event: "missed", args: ["room"] });
          await cmd(b, "emit", { event: "missed", args: ["all", { n: 1 }] });
          await cmd(b, "emit", { to: [id], event: "missed", args: ["id"] });
          await cmd(b, "emit", { to: [OTHER], event: "not-for-a", args: ["other room"] });
          await cmd(b, "emit", { except: [R], event: "not-for-a", args: ["except its room"] });
          // back, by hand (reconnection: false), on a new Engine.IO session
          a.connect();
          await connected(a);
          assert.equal(a.recovered, true, "socket.recovered");
          assert.equal(a.id, id, "same socket id");
          assert.notEqual(a.io.engine.id, engineId, "a new Engine.IO session");
          assert.deepEqual(await nextWithOffset(a, "missed"), ["room"]);
          assert.deepEqual(await nextWithOffset(a, "missed"), ["all", { n: 1 }]);
          assert.deepEqual(await nextWithOffset(a, "missed"), ["id"]);
          const me = await cmd(a, "whoami");
          assert.deepEqual({ ...me, rooms: sorted(me.rooms) }, { id, nsp: "/rooms", recovered: true, rooms: sorted([id, R]) });
          // still in its room, and nothing else came before this
          await cmd(b, "emit", { to: [R], event: "after", args: [1] });
          assert.deepEqual(await nextWithOffset(a, "after"), [1]);
          assert.deepEqual(takeWithoutOffsets(a, "not-for-a"), []);
          assert.deepEqual(takeWithoutOffsets(a, "missed"), [], "each missed event once");
        });

        it("automatic reconnection after the transport dropped: recovered, nothing lost or doubled", T, async () => {
          const R = uniq("r");
          const a = await open(url(), "/rooms", { ...opts, reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
          const b = await open(url(), "/rooms", opts);
          await joinAndReceive(a, R, b);
          const id = a.id;
          const gone = disconnected(a);
          const back = within(a.io, "reconnect");
          a.io.engine.close();
          assert.equal((await gone)[0], "forced close");
          // sent while a is away or just back: it gets each exactly once
          await cmd(b, "emit", { to: [R], event: "during", args: [1] });
          await cmd(b, "emit", { to: [id], event: "during", args: [2] });
          await back;
          await connected(a);
          assert.equal(a.recovered, true, "socket.recovered");
          assert.equal(a.id, id);
          await cmd(b, "emit", { to: [R], event: "after", args: [3] });
          assert.deepEqual(await nextWithOffset(a, "after"), [3]);
          assert.deepEqual(takeWithoutOffsets(a, "during"), [[1], [2]]);
          assert.deepEqual(sorted((await cmd(a, "whoami")).rooms), sorted([id, R]));
        });

        it("a client that disconnects on purpose is not recovered: new id, no rooms, no missed events", T, async () => {
          const R = uniq("r");
          const a = await open(url(), "/rooms", opts);
          const b = await open(url(), "/rooms", opts);
          await joinAndReceive(a, R, b);
          const id = a.id;
          a.disconnect();
          assert.equal(await serverReason(url(), id, opts), "client namespace disconnect");
          await cmd(b, "emit", { to: [R], event: "missed", args: [1] });
          // the client sends its pid and offset again; the server has no session for it
          a.connect();
          await connected(a);
          assert.equal(a.recovered, false, "socket.recovered");
          assert.notEqual(a.id, id);
          const me = await cmd(a, "whoami");
          assert.deepEqual(me.rooms, [a.id]);
          assert.equal(me.recovered, false);
          await cmd(b, "emit", { to: [a.id], event: "after", args: [2] });
          assert.deepEqual(await nextWithOffset(a, "after"), [2]);
          assert.deepEqual(takeWithoutOffsets(a, "missed"), []);
          await cmd(b, "emit", { to: [R], event: "room", args: [3] });
          await cmd(b, "emit", { to: [a.id], event: "after", args: [4] });
          assert.deepEqual(await nextWithOffset(a, "after"), [4]);
          assert.deepEqual(takeWithoutOffsets(a, "room"), [], "no longer in its old room");
        });

        for (const close of [false, true]) {
          it(`a socket the server disconnected (disconnect(${close})) is not recovered`, T, async () => {
            const R = uniq("r");
            const a = await open(url(), "/rooms", opts);
            const b = await open(url(), "/rooms", opts);
            await joinAndReceive(a, R, b);
            const id = a.id;
            const gone = disconnected(a);
            a.emit("disconnect-me", { close });
            const [reason] = await gone;
            assert.equal(await serverReason(url(), id, opts), "server namespace disconnect");
            await cmd(b, "emit", { to: [R], event: "missed", args: [1] });
            a.connect();
            await connected(a);
            assert.equal(a.recovered, false, "socket.recovered");
            assert.notEqual(a.id, id);
            assert.deepEqual((await cmd(a, "whoami")).rooms, [a.id]);
            await cmd(b, "emit", { to: [a.id], event: "after", args: [2] });
            assert.deepEqual(await nextWithOffset(a, "after"), [2]);
            assert.deepEqual(takeWithoutOffsets(a, "missed"), []);
            // last, so that a difference here does not hide the checks above
            assert.equal(reason, "io server disconnect", "client reason");
          });
        }

        it("acks carry no offset; events do, each a new one", T, async () => {
          const a = await open(url(), "/rooms", opts);
          const ackArgs = await new Promise((resolve, reject) => {
            a.timeout(5000).emit("whoami", {}, (err, ...args) => (err ? reject(err) : resolve(args)));
          });
          assert.equal(ackArgs.length, 1, `the ack is {id, ...} alone: ${JSON.stringify(ackArgs)}`);
          assert.equal(ackArgs[0].id, a.id);
          await cmd(a, "emit", { from: "socket", event: "e", args: ["x"] });
          await cmd(a, "emit", { from: "socket", event: "e", args: ["y"] });
          const [[x, o1], [y, o2]] = [await a.nextEvent("e"), await a.nextEvent("e")];
          assert.deepEqual([x, y], ["x", "y"]);
          assert.equal(typeof o1, "string");
          assert.equal(typeof o2, "string");
          assert.notEqual(o1, o2);
        });
      });
    }

    it("the recovery server is still running after all of the above", T, () => {
      assert.equal(server.exit, null, `server exited: ${JSON.stringify(server.exit)}`);
    });
  });
}
