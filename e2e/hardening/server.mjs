// What the hardening scripts share: starting a server under test and
// reading what it holds.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

// Starts `cmd args` (through bash, from `cwd`), resolves with the child once
// it printed `listening on HOST:PORT`, with `host` and `port` set on it.
export function startServer(cmd, args, { cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", `exec ${cmd} ${args}`], {
      cwd,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no 'listening on' line: ${out}`)), 30_000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code ?? signal}) before listening: ${out}`));
    });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      if (child.port) return;
      out += chunk;
      const m = /^listening on (\S+):(\d+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        child.host = m[1] === "0.0.0.0" ? "127.0.0.1" : m[1];
        child.port = Number(m[2]);
        resolve(child);
      }
    });
  });
}

// A process's resident set, in KiB.
export function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)[1]);
}

// Established TCP connections to `port`, counted on the server's side
// (/proc/net/tcp, state 01).
export function established(port) {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let n = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 3 && f[1].endsWith(hex) && f[3] === "01") n++;
    }
  }
  return n;
}
