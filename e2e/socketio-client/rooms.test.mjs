// Interop, second part: the official Node `socket.io-client` (4.8.x) against
// a Socket.IO server's rooms and broadcast operators (to, to().to(), except,
// socket.broadcast, socket.to, socketsJoin/socketsLeave, fetchSockets,
// disconnectSockets), emitWithAck gathering the acks of many clients,
// volatile emits, dynamic namespaces, and disconnect reasons on both sides
// (disconnect(true), ping timeout, no recovery without the option).
//
// Server under test: `$SOCKETIO_SERVER_CMD --port 0` and `... --msgpack`, as
// for client.test.mjs; the clients drive it through the commands of the
// namespace "/rooms" and of the dynamic namespaces "/dyn-N" (see the header
// of e2e/socketio-suite/reference-server.mjs). Broadcasts are checked with a
// fence: after the emit under test, an emit that reaches every socket of the
// test; once a socket has the fence, it has every earlier event for it (the
// events of one socket arrive in order), so "did not get it" needs no sleep.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io, Manager } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";
import {
  SERVER_CMD,
  SKIP_MSGPACK,
  T,
  TRANSPORTS,
  byId,
  closeSockets,
  cmd,
  connectError,
  connected,
  disconnected,
  open,
  serverReason,
  sorted,
  startServer,
  stopServer,
  take,
  track,
  uniq,
  untilNotNull,
  within,
} from "./support.mjs";

afterEach(closeSockets);

// A dynamic namespace of its own: "/dyn-" and digits.
const dynName = () => `/dyn-${uniq("").replace(/\D/g, "")}`;

// Opens `n` sockets on `nsp` (each on its own connection).
const openMany = (url, n, opts, nsp = "/rooms") =>
  Promise.all(Array.from({ length: n }, () => open(url, nsp, opts)));

// Emits "fence" from `ctrl`'s namespace to all of it and waits until each of
// `socks` (same namespace) has it.
async function fence(ctrl, socks) {
  const tag = uniq("fence");
  const arrived = socks.map((s) => s.nextEvent("fence"));
  await cmd(ctrl, "emit", { event: "fence", args: [tag] });
  for (const args of await Promise.all(arrived)) assert.deepEqual(args, [tag]);
}

// After a fence: the arguments of each "news" each socket got.
const newsOf = (socks) => socks.map((s) => take(s, "news"));

// Waits for the upgrade to websocket when it is still to come.
async function settled(socket, opts) {
  if (!opts.transports && socket.io.engine.transport.name !== "websocket") {
    await within(socket.io.engine, "upgrade");
  }
}

const PARSERS = [
  { name: "default parser", extra: [], opts: {} },
  { name: "msgpack parser", extra: ["--msgpack"], opts: { parser: msgpackParser }, skip: SKIP_MSGPACK },
];

for (const parser of PARSERS) {
  describe(`rooms and operators, ${parser.name}, against ${[SERVER_CMD, ...parser.extra].join(" ")}`, { skip: parser.skip }, () => {
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

      describe(`rooms and broadcasts (${name})`, () => {
        it("join and leave: the socket's rooms are its id and the rooms it joined", T, async () => {
          const [R1, R2] = [uniq("r1"), uniq("r2")];
          const a = await open(url(), "/rooms", opts);
          assert.deepEqual(sorted(await cmd(a, "join", { rooms: [R1, R2] })), sorted([a.id, R1, R2]));
          assert.deepEqual(sorted(await cmd(a, "join", { rooms: [R1] })), sorted([a.id, R1, R2]), "joined twice, listed once");
          assert.deepEqual(sorted(await cmd(a, "leave", { rooms: [R1] })), sorted([a.id, R2]));
          assert.deepEqual(sorted(await cmd(a, "leave", { rooms: [uniq("never")] })), sorted([a.id, R2]), "leaving a room not joined");
          const me = await cmd(a, "whoami");
          assert.deepEqual(sorted(me.rooms), sorted([a.id, R2]));
          assert.equal(me.id, a.id, "the server's socket.id is the client's");
          assert.equal(me.nsp, "/rooms");
          assert.equal(me.recovered, false);
        });

        it("io.to(room): the room's members only; io.to(socket id): that socket", T, async () => {
          const R = uniq("r");
          const [a, b, c, ctrl] = await openMany(url(), 4, opts);
          await Promise.all([cmd(a, "join", { rooms: [R] }), cmd(b, "join", { rooms: [R] })]);
          await cmd(ctrl, "emit", { to: [R], event: "news", args: [1, "x", { y: [null] }] });
          await fence(ctrl, [a, b, c, ctrl]);
          assert.deepEqual(newsOf([a, b, c, ctrl]), [[[1, "x", { y: [null] }]], [[1, "x", { y: [null] }]], [], []]);
          await cmd(ctrl, "emit", { to: [c.id], event: "news", args: ["for c"] });
          await fence(ctrl, [a, b, c, ctrl]);
          assert.deepEqual(newsOf([a, b, c, ctrl]), [[], [], [["for c"]], []]);
        });

        it("io.to(a).to(b): the union of the rooms, once per socket; to(a).except(b)", T, async () => {
          const [A, B] = [uniq("a"), uniq("b")];
          const [inA, inB, inBoth, ctrl] = await openMany(url(), 4, opts);
          await cmd(inA, "join", { rooms: [A] });
          await cmd(inB, "join", { rooms: [B] });
          await cmd(inBoth, "join", { rooms: [A, B] });
          const all = [inA, inB, inBoth, ctrl];
          await cmd(ctrl, "emit", { to: [A, B], event: "news", args: ["a or b"] });
          await fence(ctrl, all);
          assert.deepEqual(newsOf(all), [[["a or b"]], [["a or b"]], [["a or b"]], []]);
          await cmd(ctrl, "emit", { to: [A], except: [B], event: "news", args: ["a, not b"] });
          await fence(ctrl, all);
          assert.deepEqual(newsOf(all), [[["a, not b"]], [], [], []]);
        });

        it("io.except(room): every socket of the namespace but the room's members", T, async () => {
          const X = uniq("x");
          const [inX, other, ctrl] = await openMany(url(), 3, opts);
          await cmd(inX, "join", { rooms: [X] });
          await cmd(ctrl, "emit", { except: [X], event: "news", args: ["not x"] });
          await fence(ctrl, [inX, other, ctrl]);
          assert.deepEqual(newsOf([inX, other, ctrl]), [[], [["not x"]], [["not x"]]]);
          // except a socket id
          await cmd(ctrl, "emit", { except: [other.id], event: "news", args: ["not other"] });
          await fence(ctrl, [inX, other, ctrl]);
          assert.deepEqual(newsOf([inX, other, ctrl]), [[["not other"]], [], [["not other"]]]);
        });

        it("socket.broadcast: every socket but the sender; socket.emit: the sender alone", T, async () => {
          const [sender, b, c] = await openMany(url(), 3, opts);
          await cmd(sender, "emit", { from: "socket", broadcast: true, event: "news", args: ["from sender"] });
          await fence(sender, [sender, b, c]);
          assert.deepEqual(newsOf([sender, b, c]), [[], [["from sender"]], [["from sender"]]]);
          await cmd(sender, "emit", { from: "socket", event: "news", args: ["to myself"] });
          await fence(sender, [sender, b, c]);
          assert.deepEqual(newsOf([sender, b, c]), [[["to myself"]], [], []]);
        });

        it("socket.to(room): the room's members, the sender excluded even in the room; socket.except(room)", T, async () => {
          const [R, X] = [uniq("r"), uniq("x")];
          const [sender, b, c, d] = await openMany(url(), 4, opts);
          for (const s of [sender, b, c]) await cmd(s, "join", { rooms: [R] });
          await cmd(b, "join", { rooms: [X] });
          const all = [sender, b, c, d];
          await cmd(sender, "emit", { from: "socket", to: [R], event: "news", args: ["room"] });
          await fence(sender, all);
          assert.deepEqual(newsOf(all), [[], [["room"]], [["room"]], []]);
          await cmd(sender, "emit", { from: "socket", except: [X], event: "news", args: ["not x"] });
          await fence(sender, all);
          assert.deepEqual(newsOf(all), [[], [], [["not x"]], [["not x"]]]);
          await cmd(sender, "emit", { from: "socket", broadcast: true, to: [R], except: [X], event: "news", args: ["r, not x"] });
          await fence(sender, all);
          assert.deepEqual(newsOf(all), [[], [], [["r, not x"]], []]);
        });

        it("io.in(room).socketsJoin / socketsLeave move the room's members", T, async () => {
          const [R, S1, S2, S3] = [uniq("r"), uniq("s1"), uniq("s2"), uniq("s3")];
          const [a, b, c] = await openMany(url(), 3, opts);
          await cmd(a, "join", { rooms: [R] });
          await cmd(b, "join", { rooms: [R] });
          await cmd(c, "sockets-join", { to: [R], rooms: [S1, S2] });
          assert.deepEqual(sorted((await cmd(c, "fetch", { to: [S1] })).map((s) => s.id)), sorted([a.id, b.id]));
          assert.deepEqual(sorted((await cmd(a, "whoami")).rooms), sorted([a.id, R, S1, S2]));
          assert.deepEqual(sorted((await cmd(c, "whoami")).rooms), [c.id], "the caller is not in the room: untouched");
          await cmd(c, "emit", { to: [S2], event: "news", args: ["s2"] });
          await fence(c, [a, b, c]);
          assert.deepEqual(newsOf([a, b, c]), [[["s2"]], [["s2"]], []]);
          await cmd(c, "sockets-leave", { to: [R], rooms: [S1] });
          assert.deepEqual(await cmd(c, "fetch", { to: [S1] }), []);
          assert.deepEqual(sorted((await cmd(b, "whoami")).rooms), sorted([b.id, R, S2]));
          // with except: b only
          await cmd(c, "sockets-join", { to: [R], except: [a.id], rooms: [S3] });
          assert.deepEqual((await cmd(c, "fetch", { to: [S3] })).map((s) => s.id), [b.id]);
          // a socket id as the target
          await cmd(c, "sockets-leave", { to: [b.id], rooms: [R, S2, S3] });
          assert.deepEqual(sorted((await cmd(b, "whoami")).rooms), [b.id]);
        });

        it("fetchSockets: the ids and rooms of the selected sockets", T, async () => {
          const [R, X] = [uniq("r"), uniq("x")];
          const [a, b, c] = await openMany(url(), 3, opts);
          await cmd(a, "join", { rooms: [R, X] });
          await cmd(b, "join", { rooms: [R] });
          const norm = (list) => byId(list).map((s) => ({ id: s.id, rooms: sorted(s.rooms) }));
          const A = { id: a.id, rooms: sorted([a.id, R, X]) };
          const B = { id: b.id, rooms: sorted([b.id, R]) };
          assert.deepEqual(norm(await cmd(c, "fetch", { to: [R] })), byId([A, B]));
          assert.deepEqual(norm(await cmd(c, "fetch", { to: [R], except: [X] })), [B]);
          assert.deepEqual(norm(await cmd(c, "fetch", { to: [X, a.id] })), [A], "a is in both, listed once");
          assert.deepEqual(norm(await cmd(c, "fetch", { to: [b.id] })), [B]);
          assert.deepEqual(await cmd(c, "fetch", { to: [uniq("empty")] }), []);
          // fetched from a socket: socket.to(R) leaves the sender out
          assert.deepEqual(norm(await cmd(a, "fetch", { from: "socket", to: [R] })), [B]);
        });

        it('io.in(room).disconnectSockets(false): the members get "io server disconnect", their connections stay', T, async () => {
          const R = uniq("r");
          const manager = new Manager(url(), { reconnection: false, ...opts });
          const a = track(manager.socket("/rooms"));
          const aCustom = track(manager.socket("/custom"));
          await Promise.all([connected(a), connected(aCustom)]);
          const [b, ctrl] = await openMany(url(), 2, opts);
          await cmd(a, "join", { rooms: [R] });
          await cmd(b, "join", { rooms: [R] });
          const [aId, bId, engineId] = [a.id, b.id, manager.engine.id];
          const goneA = disconnected(a);
          const goneB = disconnected(b);
          await cmd(ctrl, "disconnect-sockets", { to: [R] });
          assert.equal((await goneA)[0], "io server disconnect");
          assert.equal((await goneB)[0], "io server disconnect");
          assert.equal(a.active, false, "no automatic reconnection");
          assert.equal(await serverReason(url(), aId, opts), "server namespace disconnect");
          assert.equal(await serverReason(url(), bId, opts), "server namespace disconnect");
          const info = await untilNotNull(() => cmd(ctrl, "disconnecting-info", { id: aId }));
          assert.equal(info?.reason, "server namespace disconnect");
          assert.deepEqual(sorted(info.rooms), sorted([aId, R]), "still in its rooms while disconnecting");
          // the other namespace of the same connection, and the others, are untouched
          assert.equal(aCustom.connected, true);
          assert.equal(manager.engine.id, engineId);
          assert.equal(ctrl.connected, true);
          assert.deepEqual(await cmd(ctrl, "fetch", { to: [R] }), []);
          // the namespace can be joined again over the same connection
          a.connect();
          await connected(a);
          assert.notEqual(a.id, aId);
          assert.equal(manager.engine.id, engineId);
        });

        it("io.in(room).disconnectSockets(true): the members' whole connections are closed", T, async () => {
          const R = uniq("r");
          const manager = new Manager(url(), { reconnection: false, ...opts });
          const a = track(manager.socket("/rooms"));
          const aCustom = track(manager.socket("/custom"));
          await Promise.all([connected(a), connected(aCustom)]);
          const ctrl = await open(url(), "/rooms", opts);
          await cmd(a, "join", { rooms: [R] });
          const [aId, customId] = [a.id, aCustom.id];
          const goneA = disconnected(a);
          const goneCustom = disconnected(aCustom);
          const closed = within(manager, "close");
          await cmd(ctrl, "disconnect-sockets", { to: [R], close: true });
          const reasons = [(await goneA)[0], (await goneCustom)[0]];
          await closed;
          assert.equal(await serverReason(url(), aId, opts), "server namespace disconnect");
          assert.equal(await serverReason(url(), customId, opts), "server namespace disconnect");
          assert.equal(ctrl.connected, true);
          assert.equal((await cmd(ctrl, "whoami")).id, ctrl.id);
          // last, so that a difference here does not hide the checks above:
          // the server sends a DISCONNECT to each namespace (/custom, not in
          // the room, included) before it closes the connection
          assert.deepEqual(reasons, ["io server disconnect", "io server disconnect"], "client reasons (/rooms, /custom)");
        });

        it("without connection state recovery, a dropped transport gives a new socket: new id, no rooms", T, async () => {
          const R = uniq("r");
          const a = await open(url(), "/rooms", { ...opts, reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
          await cmd(a, "join", { rooms: [R] });
          const id = a.id;
          const gone = disconnected(a);
          a.io.engine.close();
          assert.equal((await gone)[0], "forced close");
          await connected(a);
          assert.ok(!a.recovered, "socket.recovered"); // undefined: no pid came with the CONNECT
          assert.notEqual(a.id, id);
          const me = await cmd(a, "whoami");
          assert.deepEqual(me.rooms, [a.id]);
          assert.equal(me.recovered, false);
          assert.equal(await serverReason(url(), id, opts), "transport close");
        });
      });

      describe(`emitWithAck gathering the acks of many clients (${name})`, () => {
        // Each of `socks` answers "question" (q) with {i, q}, except those in `silent`.
        function answer(socks, silent = []) {
          socks.forEach((s, i) => {
            if (silent.includes(i)) return;
            s.on("question", (...args) => {
              const ack = args.pop();
              assert.equal(typeof ack, "function", `socket ${i}: "question" asks for an ack`);
              ack({ i, q: args[0] });
            });
          });
        }
        const byI = (list) => [...list].sort((x, y) => x.i - y.i);

        it("io.to(room).timeout(5000).emitWithAck: the answers of all 5 clients", T, async () => {
          const G = uniq("g");
          const socks = await openMany(url(), 5, opts);
          const ctrl = await open(url(), "/rooms", opts);
          for (const s of socks) await cmd(s, "join", { rooms: [G] });
          answer(socks);
          const t0 = Date.now();
          const res = await cmd(ctrl, "gather", { to: [G], timeout: 5000, event: "question", args: ["q?"] });
          assert.equal(res.timedOut, false, JSON.stringify(res));
          assert.deepEqual(byI(res.responses), [0, 1, 2, 3, 4].map((i) => ({ i, q: "q?" })));
          assert.ok(Date.now() - t0 < 4000, "did not wait for the timeout");
        });

        it("one client of 5 does not answer: a timeout after 200 ms, with the 4 answers that came", T, async () => {
          const G = uniq("g");
          const socks = await openMany(url(), 5, opts);
          const ctrl = await open(url(), "/rooms", opts);
          for (const s of socks) await cmd(s, "join", { rooms: [G] });
          answer(socks, [2]);
          const t0 = Date.now();
          const res = await cmd(ctrl, "gather", { to: [G], timeout: 200, event: "question", args: [7] });
          const waited = Date.now() - t0;
          assert.equal(res.timedOut, true, JSON.stringify(res));
          assert.deepEqual(byI(res.responses), [0, 1, 3, 4].map((i) => ({ i, q: 7 })));
          assert.ok(waited >= 180 && waited < 3000, `answered after ${waited} ms`);
          // the silent one did get the question, with an ack request
          const [q, ack] = await socks[2].nextEvent("question");
          assert.equal(q, 7);
          assert.equal(typeof ack, "function");
          ack("too late"); // ignored by the server, and harmless
          assert.equal((await cmd(ctrl, "whoami")).id, ctrl.id);
        });

        it("no receiver: resolves at once with no answers", T, async () => {
          const ctrl = await open(url(), "/rooms", opts);
          const t0 = Date.now();
          const res = await cmd(ctrl, "gather", { to: [uniq("empty")], timeout: 3000, event: "question" });
          assert.deepEqual(res, { timedOut: false, responses: [] });
          assert.ok(Date.now() - t0 < 2500, "did not wait for the timeout");
        });

        it("socket.to(room).timeout().emitWithAck: the sender, in the room, is not asked", T, async () => {
          const G = uniq("g");
          const socks = await openMany(url(), 3, opts);
          for (const s of socks) await cmd(s, "join", { rooms: [G] });
          answer(socks);
          const res = await cmd(socks[0], "gather", { from: "socket", to: [G], timeout: 5000, event: "question", args: ["s"] });
          assert.equal(res.timedOut, false, JSON.stringify(res));
          assert.deepEqual(byI(res.responses), [1, 2].map((i) => ({ i, q: "s" })));
        });
      });

      describe(`volatile (${name})`, () => {
        // The reference drops a volatile packet when the transport is not
        // writable at that instant (a polling request not yet back, a
        // WebSocket frame still being written, e.g. a heartbeat): an idle
        // client gets it, but a heartbeat may coincide. Up to 5 tries; a
        // non-volatile "after" follows each, so a drop is seen without a sleep.
        async function deliveredOnce(target, send, tag) {
          for (let attempt = 1; attempt <= 5; attempt++) {
            await send(`${tag}-${attempt}`);
            const [after] = await target.nextEvent("after");
            assert.equal(after, `${tag}-${attempt}`);
            const got = take(target, "v");
            if (got.length > 0) {
              assert.deepEqual(got, [[`${tag}-${attempt}`]]);
              return attempt;
            }
          }
          assert.fail(`no volatile "${tag}" reached the idle client in 5 tries`);
        }

        it("io.volatile.emit, io.to(room).volatile.emit and socket.volatile.emit reach an idle client", T, async () => {
          const R = uniq("r");
          const [target, ctrl] = await openMany(url(), 2, opts);
          await cmd(target, "join", { rooms: [R] });
          await Promise.all([settled(target, opts), settled(ctrl, opts)]);
          const viaCtrl = (spec) => async (tag) => {
            await cmd(ctrl, "emit", { ...spec, volatile: true, event: "v", args: [tag] });
            await cmd(ctrl, "emit", { to: [target.id], event: "after", args: [tag] });
          };
          await deliveredOnce(target, viaCtrl({}), "io");
          await deliveredOnce(target, viaCtrl({ to: [R] }), "room");
          await deliveredOnce(target, async (tag) => {
            await cmd(target, "emit", { from: "socket", volatile: true, event: "v", args: [tag] });
            await cmd(target, "emit", { from: "socket", event: "after", args: [tag] });
          }, "socket");
          assert.equal(target.connected, true);
          assert.equal(ctrl.connected, true);
        });
      });

      describe(`dynamic namespaces (${name})`, () => {
        it('"/dyn-N" matches /dyn-{id} (ours) and /^\\/dyn-\\d+$/ (the reference): connects, over the connection of "/"', T, async () => {
          const nsp = dynName();
          const manager = new Manager(url(), { reconnection: false, ...opts });
          const main = track(manager.socket("/"));
          const dyn = track(manager.socket(nsp, { auth: { d: 1 } }));
          await Promise.all([connected(main), connected(dyn)]);
          assert.deepEqual(await dyn.nextEvent("hello"), [nsp]);
          const me = await cmd(dyn, "whoami");
          assert.equal(me.nsp, nsp);
          assert.equal(me.id, dyn.id);
          assert.notEqual(dyn.id, main.id);
          assert.deepEqual(await main.nextEvent("auth"), [{}]);
          // a second client reaches the same child namespace
          const other = await open(url(), nsp, opts);
          assert.deepEqual(await other.nextEvent("hello"), [nsp]);
          assert.deepEqual(sorted((await cmd(other, "fetch", {})).map((s) => s.id)), sorted([dyn.id, other.id]));
        });

        for (const nsp of ["/dyn-", "/dyn-1/2", "/dyn"]) {
          it(`"${nsp}" matches neither: connect_error "Invalid namespace"`, T, async () => {
            const socket = track(io(url() + nsp, { forceNew: true, reconnection: false, ...opts }));
            const err = await connectError(socket);
            assert.equal(err.message, "Invalid namespace");
            assert.equal(socket.active, false);
          });
        }

        it("two children are separate namespaces; the parent emits to both", T, async () => {
          const R = uniq("r");
          const [a1, b1] = await openMany(url(), 2, opts, dynName());
          const a2 = await open(url(), dynName(), opts);
          for (const s of [a1, b1, a2]) await cmd(s, "join", { rooms: [R] });
          await cmd(b1, "emit", { to: [R], event: "news", args: ["dyn-1"] });
          await cmd(b1, "emit-parent", { event: "all", args: ["parent"] });
          for (const s of [a1, b1, a2]) assert.deepEqual(await s.nextEvent("all"), ["parent"]);
          assert.deepEqual(newsOf([a1, b1, a2]), [[["dyn-1"]], [["dyn-1"]], []], "a room of /dyn-1 is not one of /dyn-2");
          assert.deepEqual((await cmd(a2, "fetch", { to: [R] })).map((s) => s.id), [a2.id]);
        });
      });

      describe(`disconnect reasons (${name})`, () => {
        it('server socket.disconnect(true): every namespace of the connection gets "io server disconnect", the connection closes', T, async () => {
          const manager = new Manager(url(), { reconnection: false, ...opts });
          const a = track(manager.socket("/rooms"));
          const aCustom = track(manager.socket("/custom"));
          await Promise.all([connected(a), connected(aCustom)]);
          const [aId, customId] = [a.id, aCustom.id];
          const goneA = disconnected(a);
          const goneCustom = disconnected(aCustom);
          const closed = within(manager, "close");
          a.emit("disconnect-me", { close: true });
          const reasons = [(await goneA)[0], (await goneCustom)[0]];
          await closed;
          assert.equal(a.active, false);
          assert.equal(await serverReason(url(), aId, opts), "server namespace disconnect");
          assert.equal(await serverReason(url(), customId, opts), "server namespace disconnect");
          // last (see disconnectSockets(true) above)
          assert.deepEqual(reasons, ["io server disconnect", "io server disconnect"], "client reasons (/rooms, /custom)");
        });

        it('server socket.disconnect(false) on "/rooms": "io server disconnect" there only', T, async () => {
          const manager = new Manager(url(), { reconnection: false, ...opts });
          const a = track(manager.socket("/rooms"));
          const aCustom = track(manager.socket("/custom"));
          await Promise.all([connected(a), connected(aCustom)]);
          const [aId, engineId] = [a.id, manager.engine.id];
          const gone = disconnected(a);
          a.emit("disconnect-me", { close: false });
          assert.equal((await gone)[0], "io server disconnect");
          assert.equal(await serverReason(url(), aId, opts), "server namespace disconnect");
          assert.equal(aCustom.connected, true);
          assert.equal(manager.engine.id, engineId);
        });

        it('a client that stops answering pings: server reason "ping timeout", client reason "transport close"', T, async () => {
          const a = await open(url(), "/rooms", opts);
          await settled(a, opts);
          const id = a.id;
          const engine = a.io.engine;
          const sendPacket = engine._sendPacket.bind(engine);
          engine._sendPacket = (type, ...rest) => {
            if (type !== "pong") sendPacket(type, ...rest);
          };
          const t0 = Date.now();
          const [reason] = await disconnected(a, 5000);
          const waited = Date.now() - t0;
          assert.equal(reason, "transport close");
          assert.ok(waited < 3000, `disconnected after ${waited} ms`);
          assert.equal(await serverReason(url(), id, opts), "ping timeout");
        });
      });
    }

    it("the server is still running after all of the above", T, () => {
      assert.equal(server.exit, null, `server exited: ${JSON.stringify(server.exit)}`);
    });
  });
}
