// The bench app's contract (ARCHITECTURE.md, "The benchmark app") with 1 000 receivers:
// every connection opens as the load generator opens it (WebSocket
// directly, `40`, `40{"sid":…}`), `echo` is acknowledged with exactly its
// arguments, and each `broadcast` reaches every socket, the sender
// included, as `bcast` with the same payload.
// Usage: node e2e/bench-app/check.mjs PORT   (prints "N passed, M failed")
import WebSocket from 'ws';

const port = Number(process.argv[2]);
const RECEIVERS = 1000;
const BROADCASTS = 10;
const PAYLOAD = '{"t":123456,"p":"xxxxxxxxxxxxxxxx"}';
let passed = 0;
let failed = 0;
const check = (name, ok, detail = '') => {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
};

function connect() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    ws.bcast = [];
    ws.acks = [];
    ws.on('message', (data) => {
      const s = data.toString();
      if (s.startsWith('0{')) ws.send('40');
      else if (s.startsWith('40{"sid":"')) resolve(ws);
      else if (s === '2') ws.send('3');
      else if (s.startsWith('42["bcast",')) ws.bcast.push(s);
      else if (s.startsWith('43')) ws.acks.push(s);
    });
    ws.on('error', reject);
  });
}

const sockets = [];
try {
  for (let i = 0; i < RECEIVERS; i += 250) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(250, RECEIVERS - i) }, connect))));
  }
  check(`${RECEIVERS} connections open`, sockets.length === RECEIVERS);
} catch (e) {
  check(`${RECEIVERS} connections open`, false, String(e));
}
const sender = sockets[0];
if (sender) {
  sender.send(`421["echo",${PAYLOAD}]`);
  for (let k = 0; k < BROADCASTS; k++) sender.send(`42["broadcast",${PAYLOAD}]`);
  const deadline = Date.now() + 20_000;
  const done = () => sender.acks.length > 0 && sockets.every((s) => s.bcast.length >= BROADCASTS);
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  check('echo acknowledged with its arguments', sender.acks[0] === `431[${PAYLOAD}]`, JSON.stringify(sender.acks));
  const deliveries = sockets.reduce((n, s) => n + s.bcast.length, 0);
  check(`${BROADCASTS} broadcasts reach all ${RECEIVERS} sockets`, deliveries === RECEIVERS * BROADCASTS, `${deliveries} deliveries`);
  check('bcast carries the same payload', sockets.every((s) => s.bcast.every((m) => m === `42["bcast",${PAYLOAD}]`)));
}
for (const s of sockets) s.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
