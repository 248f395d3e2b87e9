// Shared helpers for the Node-based e2e suites (ws-node, ws-browser).
//
// Starting the echo server under test:
//   - default command: `<repo>/target/release/examples/echo_server 127.0.0.1:0`
//   - override: env ECHO_SERVER_CMD, a complete command line (run through
//     bash, so quoting works; relative paths resolve against the repo root).
// The server must print `listening on HOST:PORT` on stdout once bound.
// The process is started with `exec` so that the PID we hold is the server's
// own PID; it is stopped by that PID only (SIGTERM, then SIGKILL).

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_BIN = resolve(ROOT, 'target', 'release', 'examples', 'echo_server');

const shQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** The server command line (string, for bash), without extra arguments. */
export function serverCommand() {
  const override = process.env.ECHO_SERVER_CMD;
  if (override && override.trim() !== '') return override.trim();
  return `${shQuote(DEFAULT_BIN)} 127.0.0.1:0`;
}

/**
 * Start the echo server. `extraArgs` (array of strings) is appended to the
 * command line, e.g. ['--no-deflate'].
 * Resolves to { url, host, port, pid, stop(), output() }.
 */
export async function startServer({ extraArgs = [], startTimeoutMs = 30_000 } = {}) {
  const base = serverCommand();
  if (!process.env.ECHO_SERVER_CMD && !existsSync(DEFAULT_BIN)) {
    throw new Error(
      `echo server binary not found at ${DEFAULT_BIN}; build it with ` +
        '`cargo build --release -p sockio-ws --example echo_server` or set ECHO_SERVER_CMD',
    );
  }
  const cmd = [base, ...extraArgs.map(shQuote)].join(' ');
  const child = spawn('bash', ['-c', `exec ${cmd}`], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  const remember = (stream) => (line) => {
    log.push(`[${stream}] ${line}`);
    if (log.length > 200) log.shift();
    if (process.env.E2E_DEBUG) process.stderr.write(`server ${stream}: ${line}\n`);
  };
  createInterface({ input: child.stderr }).on('line', remember('stderr'));
  const stdoutLines = createInterface({ input: child.stdout });

  let exited = false;
  const exitPromise = once(child, 'exit').then(([code, signal]) => {
    exited = true;
    return { code, signal };
  });

  const addr = await new Promise((resolveAddr, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`echo server did not print "listening on" within ${startTimeoutMs} ms\ncmd: ${cmd}\n${log.join('\n')}`));
    }, startTimeoutMs);
    let found = false;
    stdoutLines.on('line', (line) => {
      remember('stdout')(line);
      if (found) return;
      const m = /listening on (\S+):(\d+)\s*$/.exec(line);
      if (m) {
        found = true;
        clearTimeout(timer);
        resolveAddr({ host: m[1], port: Number(m[2]) });
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    exitPromise.then(({ code, signal }) => {
      if (!found) {
        clearTimeout(timer);
        reject(new Error(`echo server exited early (code ${code}, signal ${signal})\ncmd: ${cmd}\n${log.join('\n')}`));
      }
    });
  });

  const host = addr.host.includes(':') && !addr.host.startsWith('[') ? `[${addr.host}]` : addr.host;
  const url = `ws://${host}:${addr.port}/`;
  const pid = child.pid;

  async function stop() {
    if (exited) return exitPromise;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const timeout = new Promise((r) => setTimeout(() => r('timeout'), 5_000).unref());
    if ((await Promise.race([exitPromise, timeout])) === 'timeout' && !exited) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    return exitPromise;
  }

  // Never leave the server behind if the test process dies abruptly.
  process.once('exit', () => {
    if (!exited) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });

  return { url, host: addr.host, port: addr.port, pid, cmd, stop, output: () => log.join('\n') };
}

/** Resolve `promise`, or reject after `ms` with a message naming `what`. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
