// The soak: SOAK_SANDBOXES sandboxes (default 10000), SOAK_CONCURRENCY at a time (default
// 20), each created, used (a command, a file written and read back) and deleted through
// `sandflow serve` by the official OpenSandbox SDK. Every 100 sandboxes it samples the
// server's resident memory and open descriptors; a server that leaks grows between the first
// thousand and the last. Prints the samples and the two ratios; exits 1 on any failed
// sandbox, on a ratio over 1.10, or when the server still lists a sandbox at the end.
//
// Environment (set by run-soak): OPEN_SANDBOX_DOMAIN, OPEN_SANDBOX_API_KEY,
// OPENSANDBOX_DISABLE_METRICS=1, SOAK_SERVER_PID.

import { readFileSync, readdirSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Sandbox } from "@alibaba-group/opensandbox";

const DOMAIN = process.env.OPEN_SANDBOX_DOMAIN;
const API_KEY = process.env.OPEN_SANDBOX_API_KEY;
const SERVER_PID = process.env.SOAK_SERVER_PID;
if (!DOMAIN || !API_KEY || !SERVER_PID || process.env.OPENSANDBOX_DISABLE_METRICS !== "1") {
  console.error("soak: run it through run-soak (OPEN_SANDBOX_DOMAIN, OPEN_SANDBOX_API_KEY, SOAK_SERVER_PID, " +
    "OPENSANDBOX_DISABLE_METRICS=1)");
  process.exit(2);
}
const TOTAL = Number(process.env.SOAK_SANDBOXES ?? 10000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 20);
const SAMPLE_EVERY = 100;
const WINDOW = Math.min(1000, Math.floor(TOTAL / 2));   // "the first and last thousand"
const LIMIT = 1.10;

function serverRssKiB() {
  const status = readFileSync(`/proc/${SERVER_PID}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)[1]);
}
const serverDescriptors = () => readdirSync(`/proc/${SERVER_PID}/fd`).length;

async function oneSandbox(n) {
  const sbx = await Sandbox.create({ image: "debian:12", metadata: { soak: String(n) } });
  try {
    const exec = await sbx.commands.run(`echo sandbox-${n}`);
    const out = exec.logs.stdout.map((m) => m.text).join("");
    if (out !== `sandbox-${n}`) throw new Error(`sandbox ${n}: stdout ${JSON.stringify(out)}`);
    await sbx.files.writeFiles([{ path: "/tmp/soak.txt", data: `file-${n}\n` }]);
    const read = await sbx.files.readFile("/tmp/soak.txt");
    if (read !== `file-${n}\n`) throw new Error(`sandbox ${n}: read back ${JSON.stringify(read)}`);
  } finally {
    try {
      await sbx.kill();
    } finally {
      await sbx.close();
    }
  }
}

const samples = [];   // { done, rss, fds }
const failures = [];
let next = 0;
let done = 0;
const started = performance.now();

async function worker() {
  while (next < TOTAL) {
    const n = next++;
    try {
      await oneSandbox(n);
    } catch (error) {
      failures.push(`${n}: ${error?.message ?? error}`);
      if (failures.length <= 5) console.error(`soak: sandbox ${n} failed: ${error?.stack ?? error}`);
    }
    ++done;
    if (done % SAMPLE_EVERY === 0) {
      // Steady: every worker still busy. The server's descriptors follow the sandboxes in
      // flight, which drop to none as the last ones finish.
      const sample = { done, rss: serverRssKiB(), fds: serverDescriptors(), steady: next < TOTAL };
      samples.push(sample);
      const seconds = (performance.now() - started) / 1000;
      console.log(`${String(done).padStart(6)} sandboxes  ${(seconds).toFixed(0).padStart(5)} s  ` +
        `server RSS ${(sample.rss / 1024).toFixed(1)} MiB  descriptors ${sample.fds}`);
    }
  }
}

await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const seconds = (performance.now() - started) / 1000;

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
const first = samples.filter((s) => s.steady && s.done <= WINDOW);
const last = samples.filter((s) => s.steady && s.done > TOTAL - WINDOW);
const rssRatio = mean(last.map((s) => s.rss)) / mean(first.map((s) => s.rss));
const fdRatio = mean(last.map((s) => s.fds)) / mean(first.map((s) => s.fds));

const listed = await fetch(`http://${DOMAIN}/v1/sandboxes?pageSize=100`, {
  headers: { "OPEN-SANDBOX-API-KEY": API_KEY },
});
const left = (await listed.json()).items?.length ?? -1;

console.log(`soak: ${TOTAL} sandboxes at concurrency ${CONCURRENCY} in ${seconds.toFixed(0)} s ` +
  `(${(TOTAL / seconds).toFixed(1)} a second), ${failures.length} failed`);
console.log(`soak: server RSS, last ${WINDOW} / first ${WINDOW}: ${rssRatio.toFixed(3)} ` +
  `(${(mean(first.map((s) => s.rss)) / 1024).toFixed(1)} -> ${(mean(last.map((s) => s.rss)) / 1024).toFixed(1)} MiB)`);
console.log(`soak: server descriptors, last ${WINDOW} / first ${WINDOW}: ${fdRatio.toFixed(3)} ` +
  `(${mean(first.map((s) => s.fds)).toFixed(1)} -> ${mean(last.map((s) => s.fds)).toFixed(1)})`);
console.log(`soak: sandboxes the server still lists: ${left}`);
const ok = failures.length === 0 && rssRatio <= LIMIT && fdRatio <= LIMIT && left === 0;
console.log(`soak: ${ok ? "passed" : "FAILED"}`);
process.exit(ok ? 0 : 1);
