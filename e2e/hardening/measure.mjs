// The figures of issue 13, measured the same way on any build: run it on
// two builds (or on the Node reference) and compare. Not a test: it asserts
// nothing and prints one line per figure.
//
//   node e2e/hardening/measure.mjs CONFORMANCE_CMD BENCH_APP_CMD
//
// CONFORMANCE_CMD is started with `--port 0` appended (the conformance
// example: Engine.IO at /engine.io/ with pingInterval 300 ms and
// pingTimeout 200 ms, Socket.IO at /socket.io/ with the dynamic namespaces
// /dyn-{id}); BENCH_APP_CMD with `0` appended (the bench app: `broadcast`
// is re-emitted as `bcast` to every socket of `/`). Both print
// `listening on HOST:PORT`. Each figure gets a fresh server. Loopback
// only; bounded (about 2 minutes in all, 40 s of it waiting on stalled
// POST bodies).
import net from "node:net";
import WebSocket from "ws";
import { established, rssKiB, startServer } from "./server.mjs";

const [CONFORMANCE, BENCH_APP] = process.argv.slice(2);
if (!CONFORMANCE || !BENCH_APP) {
  console.error("usage: node measure.mjs CONFORMANCE_CMD BENCH_APP_CMD");
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const start = (cmd, args) => startServer(cmd, args);

function stop(child) {
  child.kill("SIGCONT");
  child.kill("SIGKILL");
}

const rssMiB = (child) => (rssKiB(child.pid) / 1024).toFixed(1);

// --- 1. clients surviving a 1 s stall of the server ---
async function stall() {
  const server = await start(CONFORMANCE, "--port 0");
  const clients = await Promise.all(
    Array.from({ length: 50 }, () => new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket`);
      const c = { ws, closed: false };
      ws.on("message", (d) => {
        const t = d.toString();
        if (t.startsWith("0")) resolve(c);
        else if (t === "2") ws.send("3");
      });
      ws.on("close", () => (c.closed = true));
      ws.on("error", reject);
    })),
  );
  await sleep(600);
  server.kill("SIGSTOP");
  await sleep(1000);
  server.kill("SIGCONT");
  await sleep(1500);
  const alive = clients.filter((c) => !c.closed).length;
  for (const c of clients) c.ws.terminate();
  stop(server);
  console.log(`stall: ${alive} of 50 healthy clients survive a 1 s pause of the server`);
}

// --- 2. slow consumers: 500 clients that never read, 12 000 broadcasts ---
function sioClient(port, { read }) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    const c = { ws, bcasts: 0 };
    ws.on("message", (d) => {
      const t = d.toString();
      if (t === "2") ws.send("3");
      else if (t.startsWith("0{")) ws.send("40");
      else if (t.startsWith("40{")) {
        if (!read) ws._socket.pause();
        resolve(c);
      } else if (t.startsWith('42["bcast"')) c.bcasts++;
    });
    ws.on("error", () => {});
    ws.on("close", () => reject(new Error("closed")));
  });
}

async function slowConsumers() {
  const server = await start(BENCH_APP, "0");
  const slow = [];
  for (let i = 0; i < 500; i += 100) {
    slow.push(...(await Promise.all(Array.from({ length: 100 }, () => sioClient(server.port, { read: false })))));
  }
  const sender = await sioClient(server.port, { read: true });
  const filler = "x".repeat(1024);
  const N = 12_000;
  for (let i = 0; i < N; i++) {
    sender.ws.send(`42["broadcast",{"t":${i},"p":"${filler}"}]`);
    if (i % 500 === 499) {
      const want = i + 1;
      const deadline = Date.now() + 30_000;
      while (sender.bcasts < want && Date.now() < deadline) await sleep(5);
    }
  }
  const deadline = Date.now() + 30_000;
  while (sender.bcasts < N && Date.now() < deadline) await sleep(10);
  await sleep(2000);
  const held = established(server.port) - 1;
  const rss = rssMiB(server);
  await sleep(10_000);
  console.log(
    `slow consumers: 500 non-reading clients, ${N} broadcasts of 1 KiB (sender got ${sender.bcasts}): ` +
      `${held} of their connections still open 2 s later, server RSS ${rss} MiB then, ` +
      `${rssMiB(server)} MiB 10 s later (${established(server.port) - 1} open)`,
  );
  for (const c of slow) c.ws.terminate();
  sender.ws.terminate();
  stop(server);
}

// --- 3. polling POST bodies that never finish ---
async function stalledBodies() {
  const server = await start(CONFORMANCE, "--port 0");
  const port = server.port;
  const sids = [];
  for (let i = 0; i < 300; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/engine.io/?EIO=4&transport=polling`);
    sids.push(/"sid":"([^"]+)"/.exec(await res.text())[1]);
  }
  let open = 0;
  for (const sid of sids) {
    const socket = net.connect(port, "127.0.0.1", () =>
      socket.write(
        `POST /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n` +
          `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 1000\r\n\r\n4hello wor`,
      ),
    );
    open++;
    // Read whatever comes, so that the end of the connection is seen.
    socket.resume();
    socket.on("error", () => {});
    socket.on("close", () => open--);
  }
  await sleep(40_000);
  console.log(`stalled POST bodies: ${open} of 300 still open after 40 s, server RSS ${rssMiB(server)} MiB`);
  stop(server);
}

// --- 4. dynamic namespaces: 40 000 distinct names from 4 clients ---
async function dynamicNames() {
  const server = await start(CONFORMANCE, "--port 0");
  const clients = [];
  for (let c = 0; c < 4; c++) {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    await new Promise((r) => ws.once("message", r));
    let replies = 0;
    ws.on("message", (d) => {
      const t = d.toString();
      if (t === "2") ws.send("3");
      else if (t.startsWith("4")) replies++;
    });
    for (let i = 0; i < 10_000; i++) ws.send(`40/dyn-${c * 10_000 + i},`);
    const deadline = Date.now() + 60_000;
    while (replies < 10_000 && Date.now() < deadline) await sleep(10);
    clients.push(ws);
  }
  const during = rssMiB(server);
  for (const ws of clients) ws.terminate();
  await sleep(3000);
  // 50 names of 900 KB each, from one client that then leaves.
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`, { maxPayload: 0 });
  await new Promise((r) => ws.once("message", r));
  let replies = 0;
  ws.on("message", () => replies++);
  for (let i = 0; i < 50; i++) ws.send(`40/dyn-${i}${"n".repeat(900_000)},`);
  const deadline = Date.now() + 60_000;
  while (replies < 50 && Date.now() < deadline) await sleep(10);
  ws.terminate();
  await sleep(3000);
  console.log(
    `dynamic namespaces: RSS ${during} MiB with 4 clients after 40 000 distinct names; ` +
      `${rssMiB(server)} MiB after they left and a client sent 50 names of 900 KB and left`,
  );
  stop(server);
}

// --- 5. the largest request head accepted ---
function headStatus(port, len) {
  const base = "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: localhost\r\nX-Pad: \r\n\r\n";
  const head = base.replace("X-Pad: ", `X-Pad: ${"a".repeat(len - base.length)}`);
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(head));
    let data = "";
    socket.setEncoding("latin1");
    socket.on("data", (d) => {
      data += d;
      const m = /^HTTP\/1\.1 (\d+)/.exec(data);
      if (m) {
        resolve(Number(m[1]));
        socket.destroy();
      }
    });
    socket.on("error", () => resolve(0));
    socket.on("close", () => resolve(0));
  });
}

async function largestHead() {
  const server = await start(CONFORMANCE, "--port 0");
  let [lo, hi] = [1024, 4 << 20];
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((await headStatus(server.port, mid)) === 200) lo = mid;
    else hi = mid;
  }
  console.log(`request heads: largest accepted ${lo} bytes (limit documented: 65536)`);
  stop(server);
}

await stall();
await slowConsumers();
await stalledBodies();
await dynamicNames();
await largestHead();
process.exit(0);
