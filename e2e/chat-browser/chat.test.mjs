// The chat example (examples/chat) in Chromium: two pages exchange
// messages, once with the page's own small client and once with the
// official socket.io-client bundle (served through SOCKIO_CLIENT_JS).
// Run: e2e/chat-browser/run
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ROOT = process.env.ROOT;
const BIN = path.join(ROOT, 'target/release/chat');
const require = createRequire(import.meta.url);
const OFFICIAL = path.join(path.dirname(require.resolve('socket.io-client/package.json')), 'dist/socket.io.min.js');

function startChat(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['127.0.0.1:0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/chat on (http:\/\/[0-9.]+:\d+)/);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`chat exited with ${code}: ${out}`)));
  });
}

let browser;
before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});
after(async () => { await browser?.close(); });

for (const [name, env] of [['the page\'s own client', {}], ['the official socket.io-client bundle', { SOCKIO_CLIENT_JS: OFFICIAL }]]) {
  describe(`chat with ${name}`, () => {
    let server;
    before(async () => { server = await startChat(env); });
    after(() => { server?.child.kill(); });

    test('two pages exchange messages', { timeout: 30_000 }, async () => {
      const pages = [await browser.newPage(), await browser.newPage()];
      for (const page of pages) {
        await page.goto(server.url);
        await page.waitForFunction(() => window.socket === undefined && document.getElementById('status').textContent === 'connected');
      }
      const send = async (page, text) => {
        await page.fill('#input', text);
        await page.click('#form > button');
      };
      const lines = (page) => page.$$eval('#messages > li', (items) => items.map((li) => li.textContent));
      await send(pages[0], 'hello from A');
      for (const page of pages) await page.waitForFunction(() => document.querySelectorAll('#messages > li').length >= 1);
      await send(pages[1], 'héllo from B ✓');
      for (const page of pages) await page.waitForFunction(() => document.querySelectorAll('#messages > li').length >= 2);
      for (const page of pages) assert.deepEqual(await lines(page), ['hello from A', 'héllo from B ✓']);
      if (name.startsWith('the official')) {
        const official = await pages[0].evaluate(() => typeof io.Manager === 'function' && typeof io.Socket === 'function');
        assert.ok(official, 'the official client (with io.Manager and io.Socket) is the one loaded');
      }
      for (const page of pages) await page.close();
    });
  });
}
