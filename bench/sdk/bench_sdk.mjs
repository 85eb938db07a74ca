// `sandflow serve` as the official OpenSandbox JavaScript SDK sees it: how long a sandbox takes
// to give its first output, how many the server turns over at a given concurrency, and
// whether command streams keep flowing under load. The first two are set against the same
// work done with plain fetch, the two taking turns over rounds. Prints one line per figure;
// exits 1 when a sandbox failed or a stream stalled.
//
// Environment (set by run-bench): OPEN_SANDBOX_DOMAIN, OPEN_SANDBOX_API_KEY,
// OPENSANDBOX_DISABLE_METRICS=1.

import { performance } from "node:perf_hooks";
import { Sandbox } from "@alibaba-group/opensandbox";

const DOMAIN = process.env.OPEN_SANDBOX_DOMAIN;
const API_KEY = process.env.OPEN_SANDBOX_API_KEY;
if (!DOMAIN || !API_KEY || process.env.OPENSANDBOX_DISABLE_METRICS !== "1") {
  console.error("bench_sdk: run it through run-bench (OPEN_SANDBOX_DOMAIN, OPEN_SANDBOX_API_KEY, " +
    "OPENSANDBOX_DISABLE_METRICS=1)");
  process.exit(2);
}

const IMAGE = "debian:12";
const ENTRYPOINT = ["tail", "-f", "/dev/null"];
const LIMITS = { cpu: "1", memory: "2Gi" };   // the SDK's defaults, sent by the plain client too
const CYCLES = 20;
const TURNOVER = 100;
const TURNOVER_CONCURRENCY = 10;
const TURNOVER_ROUNDS = 5;
const STREAMS = 200;
const STREAM_SANDBOXES = 4;
// Each stream first waits 3 s, so that all 200 have started (starting 200 bash processes keeps
// two cores busy for about two seconds by itself), then prints a line every 0.5 s. Waits do not
// fork: `read -t` on a pipe nobody writes to. (A loop of `sleep` forks twice a second per
// stream; 400 fork/execs a second saturate two cores on their own: 200 such loops on the bare
// host, no sandbox, show gaps over 3 s. That would measure the machine, not the server.)
const STREAM_COMMAND = "exec 3< <(sleep 60); read -t 3 -u 3; " +
  "for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; read -t 0.5 -u 3; done; exit 0";
const STALL_MS = 2000;

const now = () => performance.now();
const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : "n/a");

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}
const median = (values) => percentile(values, 0.5);
const spread = (values) => `min ${ms(Math.min(...values))}, max ${ms(Math.max(...values))}`;

// Runs each side once untimed, then `rounds` rounds in the order A B, B A, A B, ...: neither
// side always goes first, or cold. Each side's results, one a round.
async function alternate(rounds, a, b) {
  await a();
  await b();
  const results = { a: [], b: [] };
  for (let round = 0; round < rounds; ++round) {
    if (round % 2 === 0) {
      results.a.push(await a());
      results.b.push(await b());
    } else {
      results.b.push(await b());
      results.a.push(await a());
    }
  }
  return results;
}

function expectLines(got, want, what) {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`${what}: stdout ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
}

async function dispose(sbx) {
  try {
    await sbx.kill();
  } finally {
    await sbx.close();
  }
}

// (a) Sandbox.create to the first stdout event of `echo ready`, through the SDK.
async function sdkCycle() {
  const started = now();
  const sbx = await Sandbox.create({ image: IMAGE, metadata: { bench: "sdk" } });
  try {
    let first;
    const exec = await sbx.commands.run("echo ready", {}, { onStdout: () => { first ??= now(); } });
    expectLines(exec.logs.stdout.map((m) => m.text), ["ready"], "sdk cycle");
    return first - started;
  } finally {
    await dispose(sbx);
  }
}

// The same with plain fetch: create, the execd endpoint, the command, read to the first stdout.
const lifecycleHeaders = { "OPEN-SANDBOX-API-KEY": API_KEY, "content-type": "application/json" };

async function expectStatus(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
}

async function plainCycle() {
  const started = now();
  const created = await fetch(`http://${DOMAIN}/v1/sandboxes`, {
    method: "POST",
    headers: lifecycleHeaders,
    body: JSON.stringify({ image: { uri: IMAGE }, entrypoint: ENTRYPOINT, resourceLimits: LIMITS, timeout: 600,
      metadata: { bench: "plain" } }),
  });
  await expectStatus(created, 202, "POST /v1/sandboxes");
  const { id } = await created.json();
  try {
    const endpointRes = await fetch(`http://${DOMAIN}/v1/sandboxes/${id}/endpoints/44772`, { headers: lifecycleHeaders });
    await expectStatus(endpointRes, 200, "GET endpoints/44772");
    const { endpoint, headers = {} } = await endpointRes.json();
    const res = await fetch(`http://${endpoint}/command`, {
      method: "POST",
      // The key goes to execd too, as the SDK sends it (sandflow serve requires it there).
      headers: { ...headers, ...lifecycleHeaders, accept: "text/event-stream" },
      body: JSON.stringify({ command: "echo ready" }),
    });
    await expectStatus(res, 200, "POST /command");
    let first;
    const lines = [];
    for await (const event of jsonEvents(res.body)) {
      if (event.type === "stdout") {
        first ??= now();
        lines.push(event.text);
      }
    }
    expectLines(lines, ["ready"], "plain cycle");
    return first - started;
  } finally {
    const deleted = await fetch(`http://${DOMAIN}/v1/sandboxes/${id}`, { method: "DELETE", headers: lifecycleHeaders });
    await deleted.arrayBuffer();
  }
}

// Events of an execd stream: JSON objects one a line, with or without an SSE "data:" prefix.
async function* jsonEvents(body) {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).trim().replace(/^data:\s*/, "");
      buffer = buffer.slice(newline + 1);
      if (line.startsWith("{")) yield JSON.parse(line);
    }
  }
}

async function createToFirstOutput() {
  const { a: plain, b: sdk } = await alternate(CYCLES, plainCycle, sdkCycle);
  console.log(`sdk create-to-first-output: median ${ms(median(sdk))} p90 ${ms(percentile(sdk, 0.9))} ` +
    `(plain fetch ${ms(median(plain))}, ${(median(sdk) / median(plain)).toFixed(2)}x; ` +
    `plain p90 ${ms(percentile(plain, 0.9))}; ${CYCLES} sandboxes one after another, alternating with plain fetch)`);
}

// (b) Many sandboxes created, used and deleted, several at a time, by `cycle`: the total
// time, each sandbox's, and the failures.
async function turnoverRound(cycle) {
  const perSandbox = [];
  const failures = [];
  let next = 0;
  async function worker() {
    while (next < TURNOVER) {
      const index = next++;
      const started = now();
      try {
        await cycle();
        perSandbox.push(now() - started);
      } catch (err) {
        failures.push(`sandbox ${index}: ${err.message}`);
      }
    }
  }
  const started = now();
  await Promise.all(Array.from({ length: TURNOVER_CONCURRENCY }, worker));
  return { total: now() - started, perSandbox, failures };
}

// Through the SDK, against the same cycles with plain fetch, in turns. Failures of the untimed
// first run of each count too.
async function turnover() {
  const failures = [];
  const round = (cycle) => async () => {
    const result = await turnoverRound(cycle);
    failures.push(...result.failures);
    return result;
  };
  const { a: plain, b: sdk } = await alternate(TURNOVER_ROUNDS, round(plainCycle), round(sdkCycle));
  const totals = (rounds) => rounds.map((r) => r.total);
  const perSandbox = sdk.flatMap((r) => r.perSandbox);
  console.log(`sdk ${TURNOVER} sandboxes (create, one command, delete) at concurrency ${TURNOVER_CONCURRENCY}, ` +
    `${TURNOVER_ROUNDS} rounds alternating with plain fetch: total median ${ms(median(totals(sdk)))} ` +
    `(${spread(totals(sdk))}), per sandbox median ${ms(median(perSandbox))} p90 ${ms(percentile(perSandbox, 0.9))} ` +
    `(plain fetch total median ${ms(median(totals(plain)))} (${spread(totals(plain))}), ` +
    `${(median(totals(sdk)) / median(totals(plain))).toFixed(2)}x), failed ${failures.length}`);
  for (const failure of failures.slice(0, 5)) console.log(`  ${failure}`);
  return failures.length === 0;
}

// (c) Many command streams at once: the largest silence of each stream.
async function concurrentStreams() {
  const sandboxes = [];
  try {
    for (let i = 0; i < STREAM_SANDBOXES; ++i) {
      sandboxes.push(await Sandbox.create({ image: IMAGE, metadata: { bench: "streams" } }));
    }
    const expected = Array.from({ length: 10 }, (_, i) => String(i + 1));
    const started = now();
    const results = await Promise.all(Array.from({ length: STREAMS }, async (_, index) => {
      const sbx = sandboxes[index % sandboxes.length];
      const times = [];
      try {
        // The gaps between output lines: what a stalled server would stretch.
        const exec = await sbx.commands.run(STREAM_COMMAND, {}, { onStdout: () => { times.push(now()); } });
        expectLines(exec.logs.stdout.map((m) => m.text), expected, `stream ${index}`);
        if (exec.exitCode !== 0) throw new Error(`stream ${index}: exit code ${exec.exitCode}`);
        let maxGap = 0;
        for (let i = 1; i < times.length; ++i) maxGap = Math.max(maxGap, times[i] - times[i - 1]);
        return { maxGap, firstLine: times[0] - started };
      } catch (err) {
        return { error: err.message };
      }
    }));
    const wall = now() - started;
    const ok = results.filter((r) => !r.error);
    const failed = results.filter((r) => r.error);
    const gaps = ok.map((r) => r.maxGap);
    const stalled = gaps.filter((gap) => gap > STALL_MS).length;
    const maxGap = gaps.length ? Math.max(...gaps) : NaN;
    console.log(`sse ${STREAMS} concurrent command streams in ${STREAM_SANDBOXES} sandboxes: ` +
      `max gap ${ms(maxGap)} (per-stream max gap median ${ms(median(gaps))}), ` +
      `every first line (after the 3 s wait) within ${ms(Math.max(...ok.map((r) => r.firstLine)))}, wall ${(wall / 1000).toFixed(2)} s, ` +
      `failed ${failed.length}`);
    for (const failure of failed.slice(0, 5)) console.log(`  ${failure.error}`);
    const pass = stalled === 0 && failed.length === 0;
    console.log(`sse stalls (gap > ${STALL_MS / 1000} s): ${stalled === 0 ? "none" : `${stalled} streams`} — ` +
      `${pass ? "pass" : "FAIL"}`);
    return pass;
  } finally {
    await Promise.allSettled(sandboxes.map(dispose));
  }
}

await createToFirstOutput();
const turnoverOk = await turnover();
const streamsOk = await concurrentStreams();
process.exitCode = turnoverOk && streamsOk ? 0 : 1;
