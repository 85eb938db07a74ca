// The official OpenSandbox JavaScript SDK through the scenario bench_opensandbox drives with
// OpenSandboxClient: sandboxes, several at a time, each created, five commands, a file
// uploaded and read back (compared), killed. Used as its docs show it. Prints the wall time,
// this process's CPU time and the median time per sandbox, then one `result ...` line for
// run-bench; exits 1 when a sandbox failed.
//
//   node bench_sdk_scenario.mjs PAYLOAD_FILE [SANDBOXES] [CONCURRENCY]
//
// Environment (set by run-bench): OPEN_SANDBOX_DOMAIN, OPEN_SANDBOX_API_KEY,
// OPENSANDBOX_DISABLE_METRICS=1.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Sandbox } from "@alibaba-group/opensandbox";

const [payloadFile, sandboxesArg = "100", concurrencyArg = "10"] = process.argv.slice(2);
if (!payloadFile || !process.env.OPEN_SANDBOX_DOMAIN || process.env.OPENSANDBOX_DISABLE_METRICS !== "1") {
  console.error("bench_sdk_scenario: run it through run-bench (PAYLOAD_FILE; OPEN_SANDBOX_DOMAIN, " +
    "OPEN_SANDBOX_API_KEY, OPENSANDBOX_DISABLE_METRICS=1)");
  process.exit(2);
}
const SANDBOXES = Number(sandboxesArg);
const CONCURRENCY = Number(concurrencyArg);
const PAYLOAD_PATH = "/tmp/payload.bin";
const FAILURES_SHOWN = 5;

const payload = readFileSync(payloadFile);
const numbers = Array.from({ length: 1000 }, (_, i) => String(i + 1));

// The same commands and checks as bench_opensandbox's, on the lines of stdout.
const commands = (index) => [
  { command: `echo ${index}`, expected: (lines) => lines.length === 1 && lines[0] === String(index) },
  { command: "uname -a", expected: (lines) => lines.length > 0 && lines[0].startsWith("Linux ") },
  { command: "ls /", expected: (lines) => lines.includes("etc") },
  { command: "cat /etc/os-release", expected: (lines) => lines.some((line) => line.startsWith("ID=")) },
  { command: "seq 1 1000", expected: (lines) => lines.length === numbers.length && lines.every((line, i) => line === numbers[i]) },
];

async function sandboxRound(index) {
  const sandbox = await Sandbox.create({ image: "debian:12", metadata: { bench: "sdk" } });
  try {
    for (const { command, expected } of commands(index)) {
      const execution = await sandbox.commands.run(command);
      if (execution.error) throw new Error(`${command}: ${execution.error.name}: ${execution.error.value}`);
      const lines = execution.logs.stdout.map((message) => message.text);
      if (!expected(lines)) throw new Error(`${command}: unexpected output ${JSON.stringify(lines.join("\n").slice(0, 200))}`);
    }
    await sandbox.files.writeFiles([{ path: PAYLOAD_PATH, data: payload }]);
    const back = await sandbox.files.readBytes(PAYLOAD_PATH);
    if (Buffer.compare(Buffer.from(back.buffer, back.byteOffset, back.byteLength), payload) !== 0) {
      throw new Error(`download: ${back.byteLength} bytes came back, not the ${payload.length} uploaded`);
    }
  } finally {
    try {
      await sandbox.kill();
    } finally {
      await sandbox.close();
    }
  }
}

const perSandbox = [];
const failures = [];
let next = 0;
async function worker() {
  while (next < SANDBOXES) {
    const index = next++;
    const started = performance.now();
    try {
      await sandboxRound(index);
      perSandbox.push(performance.now() - started);
    } catch (err) {
      failures.push(`sandbox ${index}: ${err.message}`);
    }
  }
}

const cpuBefore = process.cpuUsage();
const started = performance.now();
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const wallSeconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;

perSandbox.sort((a, b) => a - b);
const median = perSandbox.length ? perSandbox[Math.floor(perSandbox.length / 2)] : 0;
console.log(`sdk: ${SANDBOXES} sandboxes (create, 5 commands, upload and download ${payload.length} bytes, delete) ` +
  `at concurrency ${CONCURRENCY}: wall ${wallSeconds.toFixed(2)} s, client CPU ${cpuSeconds.toFixed(2)} s, ` +
  `per sandbox median ${median.toFixed(1)} ms, failed ${failures.length}`);
for (const failure of failures.slice(0, FAILURES_SHOWN)) console.log(`  ${failure}`);
console.log(`result wall_s=${wallSeconds.toFixed(3)} cpu_s=${cpuSeconds.toFixed(3)} median_ms=${median.toFixed(1)} ` +
  `failures=${failures.length}`);
process.exitCode = failures.length === 0 ? 0 : 1;
