// `sandflow serve` driven through the official OpenSandbox JavaScript SDK: every lifecycle,
// command, session, file and metrics operation the SDK offers, with the exact results the
// OpenSandbox protocol gives.
//
// Environment (set by run-sdk-tests):
//   OPEN_SANDBOX_DOMAIN      host:port of the server (read by the SDK itself)
//   OPEN_SANDBOX_API_KEY     its API key (read by the SDK itself)
//   SANDFLOW_SDK_VOLUME_DIR  an empty host directory under one of the server's --allow-host-path
//   OPENSANDBOX_DISABLE_METRICS=1  so the SDK posts no telemetry
//
// Every sandbox a test creates is killed by a hook of that test, whether it passes or not.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  Sandbox,
  SandboxApiException,
  SandboxManager,
} from "@alibaba-group/opensandbox";

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through run-sdk-tests`);
  return value;
}

const DOMAIN = requiredEnv("OPEN_SANDBOX_DOMAIN").replace(/^https?:\/\//, "").replace(/\/+$/, "");
requiredEnv("OPEN_SANDBOX_API_KEY");
const VOLUME_DIR = requiredEnv("SANDFLOW_SDK_VOLUME_DIR");
if (process.env.OPENSANDBOX_DISABLE_METRICS !== "1") {
  throw new Error("OPENSANDBOX_DISABLE_METRICS=1 must be set: the SDK would post telemetry");
}

const IMAGE = "debian:12";
const EXECD_PORT = 44772;
// Tags every sandbox of this run, so list filters see only ours.
const RUN = randomUUID().slice(0, 8);
// run-sdk-tests also gives each test 120 s (--test-timeout); a suite gets this in all.
const SUITE_TIMEOUT_MS = 300_000;

const SECOND = 1000;
const texts = (messages) => messages.map((m) => m.text);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// Kills a sandbox (a sandbox already gone is fine) and releases its HTTP agent.
async function dispose(sbx) {
  try {
    await sbx.kill();
  } catch (err) {
    if (!(err instanceof SandboxApiException && err.statusCode === 404)) throw err;
  } finally {
    await sbx.close();
  }
}

/// Creates a sandbox tagged with this run's metadata; `owner.after` kills it.
async function createSandbox(owner, opts = {}) {
  const sbx = await Sandbox.create({
    image: IMAGE,
    timeoutSeconds: 600,
    ...opts,
    metadata: { suite: "sdk", run: RUN, ...(opts.metadata ?? {}) },
  });
  owner.after(() => dispose(sbx));
  return sbx;
}

/// The SandboxApiException a promise rejects with. Fails unless it carries `status`, the
/// error `code` and a message that is `message` (a string) or matches it (a RegExp).
async function apiError(promise, status, code, message = /\S/) {
  let err;
  try {
    await promise;
  } catch (caught) {
    err = caught;
  }
  assert.ok(err, "expected the call to fail with a SandboxApiException, but it succeeded");
  assert.ok(err instanceof SandboxApiException,
    `expected a SandboxApiException, got ${err?.name}: ${err?.message}`);
  assert.deepEqual({ status: err.statusCode, code: err.error.code }, { status, code }, err.error.message);
  if (message instanceof RegExp) assert.match(err.error.message ?? "", message);
  else assert.equal(err.error.message, message);
  return err;
}

/// apiError's arguments for a sandbox the server does not have.
const sandboxNotFound = (id) => [404, "DOCKER::SANDBOX_NOT_FOUND", `Sandbox ${id} not found.`];
/// apiError's arguments for a path that is not there in the sandbox.
const fileNotFound = (path) => [404, "FILE_NOT_FOUND", `cannot stat ${path}: No such file or directory`];

function assertNear(actualMs, expectedMs, toleranceMs, what) {
  assert.ok(Math.abs(actualMs - expectedMs) <= toleranceMs,
    `${what}: ${new Date(actualMs).toISOString()} is not within ${toleranceMs} ms of ` +
    `${new Date(expectedMs).toISOString()}`);
}

/// One command's stdout lines, asserting it succeeded without stderr.
async function stdoutOf(sbx, command, opts) {
  const exec = await sbx.commands.run(command, opts);
  assert.deepEqual(texts(exec.logs.stderr), [], `stderr of: ${command}`);
  assert.equal(exec.exitCode, 0, `exit code of: ${command}`);
  return texts(exec.logs.stdout);
}

/// Polls a background command's status until it is no longer running.
async function waitFinished(sbx, id, limitMs = 15 * SECOND) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const status = await sbx.commands.getCommandStatus(id);
    if (!status.running) return status;
    assert.ok(Date.now() < deadline, `command ${id} still running after ${limitMs} ms`);
    await sleep(100);
  }
}

// The sandflow LocalRunner keeps cgroup v1 groups per sandbox here; where the machine has
// none, limits are not applied and metrics report the machine's figures.
function memoryCgroupPath(id) {
  return `/sys/fs/cgroup/memory/sandflow/${id}`;
}

test("server: GET /health answers without a key", async () => {
  const res = await fetch(`http://${DOMAIN}/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "healthy" });
});

describe("lifecycle", { timeout: SUITE_TIMEOUT_MS }, () => {
  test("create with metadata, env, a host volume and resource limits", async (t) => {
    const hostFile = path.join(VOLUME_DIR, "from-host.txt");
    fs.writeFileSync(hostFile, "written on the host\n");
    const before = Date.now();
    const sbx = await createSandbox(t, {
      metadata: { role: "create", team: "sandflow" },
      env: { SDK_GREETING: "hello-from-env", SDK_EMPTY: "" },
      volumes: [{ name: "work", host: { path: VOLUME_DIR }, mountPath: "/mnt/shared", readOnly: false }],
      resource: { cpu: "1", memory: "512Mi" },
      timeoutSeconds: 300,
    });
    assert.match(sbx.id, /^[A-Za-z0-9][A-Za-z0-9-]*$/);

    // The SDK reached execd through the server-proxy route the server advertises.
    const endpoint = await sbx.getEndpoint(EXECD_PORT);
    assert.equal(endpoint.endpoint, `${DOMAIN}/sandboxes/${sbx.id}/proxy/${EXECD_PORT}`);
    assert.equal(await sbx.getEndpointUrl(EXECD_PORT), `http://${DOMAIN}/sandboxes/${sbx.id}/proxy/${EXECD_PORT}`);
    assert.equal(await sbx.health.ping(), true);
    assert.equal(await sbx.isHealthy(), true);

    const info = await sbx.getInfo();
    assert.equal(info.id, sbx.id);
    assert.equal(info.status.state, "Running");
    assert.deepEqual(info.metadata, { suite: "sdk", run: RUN, role: "create", team: "sandflow" });
    assert.deepEqual(info.entrypoint, ["tail", "-f", "/dev/null"]);
    assert.ok(info.createdAt instanceof Date);
    assertNear(info.createdAt.getTime(), before, 60 * SECOND, "createdAt");
    assert.ok(info.expiresAt instanceof Date, "a sandbox with a timeout has expiresAt");
    assertNear(info.expiresAt.getTime(), info.createdAt.getTime() + 300 * SECOND, 2 * SECOND, "expiresAt");

    // env reaches every command.
    assert.deepEqual(await stdoutOf(sbx, 'echo "$SDK_GREETING"; echo "[${SDK_EMPTY-unset}]"'),
      ["hello-from-env", "[]"]);

    // The host volume is the host directory, both ways.
    assert.deepEqual(await stdoutOf(sbx, "cat /mnt/shared/from-host.txt"), ["written on the host"]);
    assert.deepEqual(await stdoutOf(sbx, "echo from the sandbox > /mnt/shared/from-sandbox.txt && echo done"), ["done"]);
    assert.equal(fs.readFileSync(path.join(VOLUME_DIR, "from-sandbox.txt"), "utf8"), "from the sandbox\n");

    // The memory limit, where the machine gives the server cgroups.
    const cgroup = memoryCgroupPath(sbx.id);
    if (fs.existsSync(cgroup)) {
      assert.equal(fs.readFileSync(path.join(cgroup, "memory.limit_in_bytes"), "utf8").trim(), String(512 * 1024 * 1024));
    } else {
      t.diagnostic(`no memory cgroup at ${cgroup}: limits not checked`);
    }
  });

  test("renew and patch metadata", async (t) => {
    const sbx = await createSandbox(t, { metadata: { role: "renew" }, timeoutSeconds: 120 });

    const asked = Date.now() + 1800 * SECOND;
    const renewed = await sbx.renew(1800);
    assert.ok(renewed.expiresAt instanceof Date);
    assertNear(renewed.expiresAt.getTime(), asked, 2 * SECOND, "renew response expiresAt");
    let info = await sbx.getInfo();
    assertNear(info.expiresAt.getTime(), renewed.expiresAt.getTime(), SECOND, "expiresAt after renew");

    // Renewing to an earlier time is allowed (client-side pools rely on it).
    const manager = SandboxManager.create();
    t.after(() => manager.close());
    const shorter = Date.now() + 900 * SECOND;
    await manager.renewSandbox(sbx.id, 900);
    info = await manager.getSandboxInfo(sbx.id);
    assertNear(info.expiresAt.getTime(), shorter, 2 * SECOND, "expiresAt after a shortening renew");

    const patched = await sbx.patchMetadata({ role: "patched", extra: "x" });
    assert.deepEqual(patched.metadata, { suite: "sdk", run: RUN, role: "patched", extra: "x" });
    const removed = await manager.patchSandboxMetadata(sbx.id, { extra: null });
    assert.deepEqual(removed.metadata, { suite: "sdk", run: RUN, role: "patched" });
    assert.deepEqual((await sbx.getInfo()).metadata, { suite: "sdk", run: RUN, role: "patched" });
  });

  test("list with state and metadata filters, and pagination", async (t) => {
    const group = randomUUID().slice(0, 8);
    const a = await createSandbox(t, { metadata: { group, role: "a" } });
    const b = await createSandbox(t, { metadata: { group, role: "b" } });
    const manager = SandboxManager.create();
    t.after(() => manager.close());
    const ids = (response) => response.items.map((item) => item.id).sort();

    assert.deepEqual(ids(await manager.listSandboxInfos({ metadata: { group } })), [a.id, b.id].sort());
    assert.deepEqual(ids(await manager.listSandboxInfos({ metadata: { group, role: "a" } })), [a.id]);
    assert.deepEqual(ids(await manager.listSandboxInfos({ metadata: { group, role: "none" } })), []);
    assert.deepEqual(ids(await manager.listSandboxInfos({ states: ["Running"], metadata: { group } })),
      [a.id, b.id].sort());

    const item = (await manager.listSandboxInfos({ metadata: { group, role: "b" } })).items[0];
    assert.equal(item.status.state, "Running");
    assert.deepEqual(item.metadata, { suite: "sdk", run: RUN, group, role: "b" });
    assert.ok(item.createdAt instanceof Date);

    const page1 = await manager.listSandboxInfos({ metadata: { group }, page: 1, pageSize: 1 });
    assert.equal(page1.items.length, 1);
    assert.deepEqual(page1.pagination, { page: 1, pageSize: 1, totalItems: 2, totalPages: 2, hasNextPage: true });
    const page2 = await manager.listSandboxInfos({ metadata: { group }, page: 2, pageSize: 1 });
    assert.deepEqual(page2.pagination, { page: 2, pageSize: 1, totalItems: 2, totalPages: 2, hasNextPage: false });
    assert.deepEqual([page1.items[0].id, page2.items[0].id].sort(), [a.id, b.id].sort());

    await manager.pauseSandbox(b.id);
    assert.deepEqual(ids(await manager.listSandboxInfos({ states: ["Paused"], metadata: { group } })), [b.id]);
    assert.deepEqual(ids(await manager.listSandboxInfos({ states: ["Running"], metadata: { group } })), [a.id]);
    assert.deepEqual(ids(await manager.listSandboxInfos({ states: ["Running", "Paused"], metadata: { group } })),
      [a.id, b.id].sort());
    await manager.resumeSandbox(b.id);
    assert.equal((await manager.getSandboxInfo(b.id)).status.state, "Running");
  });

  test("pause: state Paused and commands stop; resume: Running and commands work", async (t) => {
    const sbx = await createSandbox(t, { metadata: { role: "pause" } });
    assert.deepEqual(await stdoutOf(sbx, "echo before"), ["before"]);

    await sbx.pause();
    assert.equal((await sbx.getInfo()).status.state, "Paused");

    // A command on a paused sandbox is refused at once (an aborted call is no API error),
    // with the lifecycle API's code for a sandbox that must be running.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error("still blocked after 3 s")), 3 * SECOND);
    await apiError(sbx.commands.run("echo while-paused", {}, undefined, abort.signal),
      409, "DOCKER::SANDBOX_NOT_RUNNING", `sandbox \`${sbx.id}\` is Paused`);
    clearTimeout(timer);

    // The resumed instance shares the first one's connection, which dispose() closes.
    const resumed = await sbx.resume();
    assert.equal(resumed.id, sbx.id);
    assert.equal((await resumed.getInfo()).status.state, "Running");
    assert.deepEqual(await stdoutOf(resumed, "echo after"), ["after"]);
  });

  test("kill: the sandbox is gone (404) and its execd no longer answers", async (t) => {
    const sbx = await createSandbox(t, { metadata: { role: "kill" } });
    const manager = SandboxManager.create();
    t.after(() => manager.close());
    assert.deepEqual(await stdoutOf(sbx, "echo alive"), ["alive"]);

    await sbx.kill();
    await apiError(sbx.getInfo(), ...sandboxNotFound(sbx.id));
    assert.equal(await sbx.isHealthy(), false);
    const listed = await manager.listSandboxInfos({ metadata: { run: RUN, role: "kill" } });
    assert.deepEqual(listed.items, []);
    await apiError(manager.killSandbox(sbx.id), ...sandboxNotFound(sbx.id));
  });

  test("an unknown sandbox: 404 with the request id", async (t) => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    const manager = SandboxManager.create();
    t.after(() => manager.close());
    let err = await apiError(manager.getSandboxInfo(unknown), ...sandboxNotFound(unknown));
    assert.match(err.requestId ?? "", /\S/, "X-Request-ID is echoed");

    // A request id the client sends comes back as is.
    const requestId = `sdk-${randomUUID()}`;
    const traced = SandboxManager.create({ connectionConfig: { headers: { "X-Request-ID": requestId } } });
    t.after(() => traced.close());
    err = await apiError(traced.getSandboxInfo(unknown), ...sandboxNotFound(unknown));
    assert.equal(err.requestId, requestId);

    await apiError(manager.killSandbox(unknown), ...sandboxNotFound(unknown));
    await apiError(manager.pauseSandbox(unknown), ...sandboxNotFound(unknown));
    await apiError(Sandbox.connect({ sandboxId: unknown }), ...sandboxNotFound(unknown));
  });

  test("a wrong or missing API key: 401", async (t) => {
    const wrong = SandboxManager.create({ connectionConfig: { apiKey: "not-the-key" } });
    t.after(() => wrong.close());
    const err = await apiError(wrong.listSandboxInfos(), 401, "INVALID_API_KEY");
    assert.match(err.requestId ?? "", /\S/);

    const missing = SandboxManager.create({ connectionConfig: { apiKey: "" } });
    t.after(() => missing.close());
    await apiError(missing.listSandboxInfos(), 401, "MISSING_API_KEY");

    // Nothing gets created with a wrong key.
    const marker = randomUUID().slice(0, 8);
    await apiError(Sandbox.create({
      image: IMAGE, metadata: { run: RUN, marker }, connectionConfig: { apiKey: "not-the-key" },
    }), 401, "INVALID_API_KEY");
    const manager = SandboxManager.create();
    t.after(() => manager.close());
    assert.deepEqual((await manager.listSandboxInfos({ metadata: { marker } })).items, []);
  });
});

describe("commands", { timeout: SUITE_TIMEOUT_MS }, () => {
  let sbx;
  before(async () => {
    sbx = await Sandbox.create({ image: IMAGE, timeoutSeconds: 600, metadata: { suite: "sdk", run: RUN, role: "commands" } });
  });
  after(async () => {
    if (sbx) await dispose(sbx);
  });

  test("foreground: echo Hello gives exactly one stdout event", async () => {
    const seen = { init: [], stdout: [], complete: [] };
    const exec = await sbx.commands.run("echo Hello", {}, {
      onInit: (init) => { seen.init.push(init.id); },
      onStdout: (msg) => { seen.stdout.push(msg.text); },
      onExecutionComplete: (complete) => { seen.complete.push(complete); },
    });
    assert.deepEqual(texts(exec.logs.stdout), ["Hello"]);
    assert.deepEqual(texts(exec.logs.stderr), []);
    assert.equal(exec.exitCode, 0);
    assert.equal(exec.error, undefined);
    assert.ok(exec.complete, "execution_complete arrived");
    assert.match(exec.id ?? "", /^\S+$/, "init carries the command id");
    assert.deepEqual(seen.init, [exec.id]);
    assert.deepEqual(seen.stdout, ["Hello"]);
    assert.equal(seen.complete.length, 1);
    assert.equal(typeof exec.logs.stdout[0].timestamp, "number");
  });

  test("foreground: the raw event stream", async () => {
    const events = [];
    for await (const ev of sbx.commands.runStream("echo one; echo two >&2; echo three")) events.push(ev);
    const kinds = events.map((ev) => ev.type).filter((type) => type !== "ping");
    assert.equal(kinds[0], "init");
    assert.equal(kinds.at(-1), "execution_complete");
    assert.deepEqual(events.filter((ev) => ev.type === "stdout").map((ev) => ev.text), ["one", "three"]);
    assert.deepEqual(events.filter((ev) => ev.type === "stderr").map((ev) => ev.text), ["two"]);
    assert.equal(events.filter((ev) => ev.type === "error").length, 0);
    for (const ev of events) assert.equal(typeof ev.timestamp, "number", `${ev.type} has a timestamp`);
  });

  test("foreground: one event per line, stdout and stderr apart", async () => {
    const exec = await sbx.commands.run("printf 'a\\nb\\n'; echo oops >&2; printf 'no newline'");
    assert.deepEqual(texts(exec.logs.stdout), ["a", "b", "no newline"]);
    assert.deepEqual(texts(exec.logs.stderr), ["oops"]);
    assert.equal(exec.exitCode, 0);
  });

  test("foreground: a failing command's exit code", async () => {
    const exec = await sbx.commands.run("echo partial; exit 3");
    assert.deepEqual(texts(exec.logs.stdout), ["partial"]);
    assert.equal(exec.exitCode, 3);
    assert.equal(exec.error?.name, "CommandExecError");
    assert.equal(exec.error?.value, "3");
    assert.equal(exec.complete, undefined, "error and execution_complete are exclusive");

    const missing = await sbx.commands.run("no-such-command-anywhere");
    assert.equal(missing.exitCode, 127);
    assert.match(texts(missing.logs.stderr).join("\n"), /no-such-command-anywhere/);
  });

  test("foreground: envs and working directory", async () => {
    assert.deepEqual(await stdoutOf(sbx, 'echo "$FOO-$BAR"', { envs: { FOO: "x", BAR: "y z" } }), ["x-y z"]);
    assert.deepEqual(await stdoutOf(sbx, "pwd", { workingDirectory: "/tmp" }), ["/tmp"]);
    assert.deepEqual(await stdoutOf(sbx, "mkdir -p /tmp/cwd-test/inner && echo ok"), ["ok"]);
    assert.deepEqual(await stdoutOf(sbx, "pwd", { workingDirectory: "/tmp/cwd-test/inner" }), ["/tmp/cwd-test/inner"]);
    await apiError(sbx.commands.run("pwd", { workingDirectory: "/no/such/dir" }),
      400, "INVALID_REQUEST_BODY", "working directory /no/such/dir is not a directory");
  });

  test("foreground: as another user", async () => {
    assert.deepEqual(await stdoutOf(sbx, "id -u; id -g; id -un", { uid: 65534, gid: 65534 }),
      ["65534", "65534", "nobody"]);
    // With a uid only, the group is that user's.
    assert.deepEqual(await stdoutOf(sbx, "id -u; id -g", { uid: 65534 }), ["65534", "65534"]);
  });

  test("foreground: a timeout kills the command", async () => {
    const started = Date.now();
    const exec = await sbx.commands.run("echo started; sleep 30; echo never", { timeoutSeconds: 1 });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900 && elapsed < 10 * SECOND, `took ${elapsed} ms`);
    assert.deepEqual(texts(exec.logs.stdout), ["started"]);
    assert.equal(exec.exitCode, -1);
    assert.equal(exec.error?.name, "CommandExecError");
    assert.equal(exec.complete, undefined);
  });

  test("foreground: interrupt a long command", async () => {
    let id;
    let printed;
    const started = new Promise((resolve) => { printed = resolve; });
    const begin = Date.now();
    const running = sbx.commands.run("echo started; sleep 60; echo never", {}, {
      onInit: (init) => { id = init.id; },
      onStdout: () => printed(),
    });
    await started;
    assert.equal((await sbx.commands.getCommandStatus(id)).running, true);
    await sbx.commands.interrupt(id);
    const exec = await running;
    const elapsed = Date.now() - begin;
    assert.ok(elapsed < 10 * SECOND, `took ${elapsed} ms`);
    assert.equal(exec.id, id);
    assert.deepEqual(texts(exec.logs.stdout), ["started"]);
    assert.equal(exec.exitCode, -1);
    assert.equal(exec.complete, undefined);
    const status = await waitFinished(sbx, id);
    assert.equal(status.exitCode, -1);
  });

  test("background: status, then logs by cursor", async () => {
    const command = "for i in 1 2 3; do echo line$i; sleep 0.5; done; exit 4";
    const exec = await sbx.commands.run(command, { background: true });
    assert.match(exec.id ?? "", /^\S+$/);
    assert.equal(exec.exitCode, undefined, "the SDK leaves a background command's exit code unset");
    assert.deepEqual(texts(exec.logs.stdout), []);

    const first = await sbx.commands.getCommandStatus(exec.id);
    assert.equal(first.id, exec.id);
    assert.equal(first.content, command);
    assert.equal(first.running, true, "the call returned before the command finished");
    assert.equal(first.exitCode, null);
    assert.equal(first.finishedAt, null);
    assert.ok(first.startedAt instanceof Date);

    // Follow the log by cursor, as a tail -f would.
    let log = "";
    let cursor = 0;
    let reads = 0;
    for (;;) {
      const status = await sbx.commands.getCommandStatus(exec.id);
      const chunk = await sbx.commands.getBackgroundCommandLogs(exec.id, cursor);
      assert.equal(typeof chunk.cursor, "number", "EXECD-COMMANDS-TAIL-CURSOR is sent");
      log += chunk.content;
      cursor = chunk.cursor;
      ++reads;
      if (!status.running) break;
      assert.ok(reads < 200, "the background command never finished");
      await sleep(150);
    }
    assert.equal(log, "line1\nline2\nline3\n");
    assert.equal(cursor, 18, "the cursor is a byte offset");

    // Read again from any byte offset; at the end there is nothing more.
    assert.deepEqual(await sbx.commands.getBackgroundCommandLogs(exec.id, 6), { content: "line2\nline3\n", cursor: 18 });
    assert.deepEqual(await sbx.commands.getBackgroundCommandLogs(exec.id, 18), { content: "", cursor: 18 });
    assert.deepEqual(await sbx.commands.getBackgroundCommandLogs(exec.id), { content: "line1\nline2\nline3\n", cursor: 18 });

    const last = await sbx.commands.getCommandStatus(exec.id);
    assert.equal(last.running, false);
    assert.equal(last.exitCode, 4);
    assert.ok(last.finishedAt instanceof Date);
    assert.ok(last.finishedAt.getTime() - last.startedAt.getTime() >= 1400,
      `ran ${last.finishedAt - last.startedAt} ms, its sleeps alone take 1500`);
  });

  test("background: interrupt", async () => {
    const exec = await sbx.commands.run("sleep 60", { background: true });
    assert.equal((await sbx.commands.getCommandStatus(exec.id)).running, true);
    const started = Date.now();
    await sbx.commands.interrupt(exec.id);
    const status = await waitFinished(sbx, exec.id, 10 * SECOND);
    assert.ok(Date.now() - started < 10 * SECOND);
    assert.equal(status.exitCode, -1);

    // execd's code for an unknown command, with 404.
    await apiError(sbx.commands.getCommandStatus("no-such-command-id"),
      404, "INVALID_REQUEST_BODY", /^no command `no-such-command-id` in sandbox /);
  });

  test("bash session: exported env and cwd persist between runs", async () => {
    const base = `/tmp/sdk-session-${RUN}`;
    const session = await sbx.commands.createSession({ workingDirectory: base });
    assert.match(session, /^\S+$/);
    try {
      let exec = await sbx.commands.runInSession(session, "pwd");
      assert.deepEqual(texts(exec.logs.stdout), [base]);
      assert.equal(exec.exitCode, 0);

      exec = await sbx.commands.runInSession(session, "export SDK_VAR=persisted; PLAIN=lost; mkdir -p sub; cd sub");
      assert.equal(exec.exitCode, 0);
      assert.deepEqual(texts(exec.logs.stdout), []);

      exec = await sbx.commands.runInSession(session, 'echo "$SDK_VAR"; echo "${PLAIN:-unset}"; pwd');
      assert.deepEqual(texts(exec.logs.stdout), ["persisted", "unset", `${base}/sub`]);

      // A failing run reports its code and leaves the session usable; stderr comes as stdout.
      exec = await sbx.commands.runInSession(session, "echo to-stderr >&2; sh -c 'exit 5'");
      assert.equal(exec.exitCode, 5);
      assert.deepEqual(texts(exec.logs.stdout), ["to-stderr"]);
      assert.deepEqual(texts(exec.logs.stderr), []);

      exec = await sbx.commands.runInSession(session, "pwd", { workingDirectory: "/" });
      assert.deepEqual(texts(exec.logs.stdout), ["/"]);

      exec = await sbx.commands.runInSession(session, 'echo "$SDK_VAR"');
      assert.deepEqual(texts(exec.logs.stdout), ["persisted"]);

      const started = Date.now();
      exec = await sbx.commands.runInSession(session, "sleep 30", { timeoutSeconds: 1 });
      assert.ok(Date.now() - started < 10 * SECOND, "the run's timeout applies");
      assert.notEqual(exec.exitCode, 0);
    } finally {
      await sbx.commands.deleteSession(session);
    }
    // execd's answer for a session it does not have: a runtime error, not 404.
    await apiError(sbx.commands.runInSession(session, "echo gone"), 500, "RUNTIME_ERROR", `no session \`${session}\``);
  });

  test("metrics", async (t) => {
    // Metrics come from the sandbox's cgroups: without them the server has none to give.
    if (!fs.existsSync(memoryCgroupPath(sbx.id))) {
      t.diagnostic(`no memory cgroup at ${memoryCgroupPath(sbx.id)}: metrics are refused`);
      await apiError(sbx.getMetrics(), 500, "RUNTIME_ERROR", "metrics need the sandbox's cgroups, which are not available here");
      return;
    }
    const metrics = await sbx.getMetrics();
    for (const key of ["cpuCount", "cpuUsedPercentage", "memoryTotalMiB", "memoryUsedMiB", "timestamp"]) {
      assert.equal(typeof metrics[key], "number", key);
      assert.ok(Number.isFinite(metrics[key]), key);
    }
    // The SDK's default limits: cpu 1, memory 2Gi.
    assert.equal(metrics.cpuCount, 1);
    assert.equal(metrics.memoryTotalMiB, 2048);
    assert.ok(metrics.memoryUsedMiB > 0 && metrics.memoryUsedMiB <= metrics.memoryTotalMiB,
      `memoryUsedMiB ${metrics.memoryUsedMiB}`);
    assert.ok(metrics.cpuUsedPercentage >= 0 && metrics.cpuUsedPercentage <= 100 * os.availableParallelism(),
      `cpuUsedPercentage ${metrics.cpuUsedPercentage}`);
    assertNear(metrics.timestamp, Date.now(), 60 * SECOND, "metrics timestamp");
  });
});

describe("files", { timeout: SUITE_TIMEOUT_MS }, () => {
  let sbx;
  let user;
  const base = `/tmp/sdk-files-${RUN}`;
  before(async () => {
    sbx = await Sandbox.create({ image: IMAGE, timeoutSeconds: 600, metadata: { suite: "sdk", run: RUN, role: "files" } });
    [user] = await stdoutOf(sbx, "id -un");
  });
  after(async () => {
    if (sbx) await dispose(sbx);
  });

  test("write and read files", async () => {
    await sbx.files.writeFiles([{ path: `${base}/hello.txt`, data: "hello world\n", mode: 644 }]);
    assert.equal(await sbx.files.readFile(`${base}/hello.txt`), "hello world\n");
    assert.deepEqual(await stdoutOf(sbx, `cat ${base}/hello.txt`), ["hello world"]);

    // Several at once, parents created, bytes kept exactly.
    const binary = Uint8Array.from([0, 1, 2, 127, 128, 254, 255, 10, 13]);
    await sbx.files.writeFiles([
      { path: `${base}/a.txt`, data: "alpha", mode: 600 },
      { path: `${base}/b.py`, data: "print(1)\n", mode: 755 },
      { path: `${base}/sub/deeper/c.txt`, data: "gamma", mode: 644 },
      { path: `${base}/bin.dat`, data: binary, mode: 644 },
    ]);
    assert.equal(await sbx.files.readFile(`${base}/a.txt`), "alpha");
    assert.equal(await sbx.files.readFile(`${base}/sub/deeper/c.txt`), "gamma");
    assert.deepEqual(await sbx.files.readBytes(`${base}/bin.dat`), binary);
    assert.deepEqual(await stdoutOf(sbx, `python3 ${base}/b.py`), ["1"]);

    // Overwriting truncates.
    await sbx.files.writeFiles([{ path: `${base}/a.txt`, data: "alp", mode: 600 }]);
    assert.equal(await sbx.files.readFile(`${base}/a.txt`), "alp");
    await sbx.files.writeFiles([{ path: `${base}/a.txt`, data: "alpha", mode: 600 }]);

    // For a download the SDK keeps a code of its own; the server's answer is the raw body.
    const err = await apiError(sbx.files.readFile(`${base}/missing.txt`), 404, "UNEXPECTED_RESPONSE", "Download failed");
    const [, code, message] = fileNotFound(`${base}/missing.txt`);
    assert.deepEqual(JSON.parse(err.rawBody), { code, message });
  });

  test("large files, in memory and streamed both ways", async () => {
    const big = randomBytes(1024 * 1024 + 7);
    await sbx.files.writeFiles([{ path: `${base}/big.bin`, data: big, mode: 644 }]);
    assert.ok(Buffer.from(await sbx.files.readBytes(`${base}/big.bin`)).equals(big));

    const chunks = [randomBytes(65536), randomBytes(65536), randomBytes(1000)];
    async function* source() {
      for (const chunk of chunks) yield new Uint8Array(chunk);
    }
    await sbx.files.writeFiles([{ path: `${base}/streamed.bin`, data: source(), mode: 644 }]);
    const received = [];
    for await (const chunk of sbx.files.readBytesStream(`${base}/streamed.bin`)) received.push(Buffer.from(chunk));
    assert.ok(Buffer.concat(received).equals(Buffer.concat(chunks)));
    assert.deepEqual(await stdoutOf(sbx, `stat -c %s ${base}/streamed.bin`), [String(65536 * 2 + 1000)]);
  });

  test("download a byte range", async () => {
    await sbx.files.writeFiles([{ path: `${base}/digits.txt`, data: "0123456789", mode: 644 }]);
    const decode = (bytes) => new TextDecoder().decode(bytes);
    assert.equal(decode(await sbx.files.readBytes(`${base}/digits.txt`, { range: "bytes=2-5" })), "2345");
    assert.equal(decode(await sbx.files.readBytes(`${base}/digits.txt`, { range: "bytes=7-" })), "789");
    assert.equal(await sbx.files.readFile(`${base}/digits.txt`, { range: "bytes=-3" }), "789");
  });

  test("file info", async () => {
    const info = await sbx.files.getFileInfo([`${base}/a.txt`, `${base}/sub`]);
    assert.deepEqual(Object.keys(info).sort(), [`${base}/a.txt`, `${base}/sub`]);
    const file = info[`${base}/a.txt`];
    assert.equal(file.path, `${base}/a.txt`);
    assert.equal(file.type, "file");
    assert.equal(file.size, 5);
    assert.equal(file.mode, 600);
    assert.equal(file.owner, user);
    assert.ok(file.modifiedAt instanceof Date);
    assertNear(file.modifiedAt.getTime(), Date.now(), 120 * SECOND, "modifiedAt");
    assert.ok(file.createdAt instanceof Date);
    assert.equal(info[`${base}/sub`].type, "directory");

    await apiError(sbx.files.getFileInfo([`${base}/a.txt`, `${base}/nothing-here`]), ...fileNotFound(`${base}/nothing-here`));
  });

  test("search by base-name glob, files only", async () => {
    const paths = (found) => found.map((entry) => entry.path).sort();
    assert.deepEqual(paths(await sbx.files.search({ path: base, pattern: "*.txt" })),
      [`${base}/a.txt`, `${base}/digits.txt`, `${base}/hello.txt`, `${base}/sub/deeper/c.txt`].sort());
    assert.deepEqual(paths(await sbx.files.search({ path: base, pattern: "*.py" })), [`${base}/b.py`]);
    assert.deepEqual(paths(await sbx.files.search({ path: base, pattern: "*.none" })), []);
    const found = await sbx.files.search({ path: `${base}/sub`, pattern: "c.*" });
    assert.equal(found.length, 1);
    assert.equal(found[0].type, "file");
    assert.equal(found[0].size, 5);
  });

  test("replace contents", async () => {
    await sbx.files.writeFiles([{ path: `${base}/replace.txt`, data: "one two one\n", mode: 640 }]);
    await sbx.files.replaceContents([{ path: `${base}/replace.txt`, oldContent: "one", newContent: "1" }]);
    assert.equal(await sbx.files.readFile(`${base}/replace.txt`), "1 two 1\n");

    const results = await sbx.files.replaceContentsDetailed([
      { path: `${base}/hello.txt`, oldContent: "o", newContent: "0" },
    ]);
    assert.deepEqual(results, [{ path: `${base}/hello.txt`, replacedCount: 2 }]);
    assert.equal(await sbx.files.readFile(`${base}/hello.txt`), "hell0 w0rld\n");
    // The mode survives a replace.
    assert.equal((await sbx.files.getFileInfo([`${base}/replace.txt`]))[`${base}/replace.txt`].mode, 640);
  });

  test("set permissions and ownership", async () => {
    const file = `${base}/perm.txt`;
    await sbx.files.writeFiles([{ path: file, data: "perm", mode: 600 }]);
    await sbx.files.setPermissions([{ path: file, mode: 640, owner: "nobody", group: "nogroup" }]);
    const info = (await sbx.files.getFileInfo([file]))[file];
    assert.equal(info.mode, 640);
    assert.equal(info.owner, "nobody");
    assert.equal(info.group, "nogroup");
    assert.deepEqual(await stdoutOf(sbx, `stat -c '%a %U %G' ${file}`), ["640 nobody nogroup"]);

    await sbx.files.setPermissions([{ path: file, mode: 444, owner: user }]);
    assert.deepEqual(await stdoutOf(sbx, `stat -c '%a %U' ${file}`), [`444 ${user}`]);

    // Ownership set on upload.
    await sbx.files.writeFiles([{ path: `${base}/owned.txt`, data: "x", mode: 600, owner: "nobody", group: "nogroup" }]);
    assert.deepEqual(await stdoutOf(sbx, `stat -c '%a %U %G' ${base}/owned.txt`), ["600 nobody nogroup"]);
  });

  test("move files", async () => {
    await sbx.files.moveFiles([{ src: `${base}/a.txt`, dest: `${base}/moved/renamed.txt` }]);
    assert.equal(await sbx.files.readFile(`${base}/moved/renamed.txt`), "alpha");
    await apiError(sbx.files.getFileInfo([`${base}/a.txt`]), ...fileNotFound(`${base}/a.txt`));
    await apiError(sbx.files.moveFiles([{ src: `${base}/a.txt`, dest: `${base}/x.txt` }]), ...fileNotFound(`${base}/a.txt`));
  });

  test("delete files", async () => {
    await sbx.files.deleteFiles([`${base}/moved/renamed.txt`, `${base}/b.py`]);
    await apiError(sbx.files.getFileInfo([`${base}/moved/renamed.txt`]), ...fileNotFound(`${base}/moved/renamed.txt`));
    await apiError(sbx.files.getFileInfo([`${base}/b.py`]), ...fileNotFound(`${base}/b.py`));
    assert.deepEqual(await stdoutOf(sbx, `ls -A ${base}/moved | wc -l`), ["0"]);
  });

  test("create, list and delete directories", async () => {
    const dirs = `${base}/dirs`;
    await sbx.files.createDirectories([
      { path: `${dirs}/one/two`, mode: 750 },
      { path: `${dirs}/three`, mode: 755, owner: "nobody", group: "nogroup" },
    ]);
    await sbx.files.writeFiles([{ path: `${dirs}/one/file.txt`, data: "f", mode: 644 }]);
    const info = await sbx.files.getFileInfo([`${dirs}/one/two`, `${dirs}/three`]);
    assert.equal(info[`${dirs}/one/two`].type, "directory");
    assert.equal(info[`${dirs}/one/two`].mode, 750);
    assert.equal(info[`${dirs}/three`].owner, "nobody");
    assert.equal(info[`${dirs}/three`].group, "nogroup");

    const listed = (entries) => entries.map((entry) => `${entry.type} ${entry.path}`).sort();
    assert.deepEqual(listed(await sbx.files.listDirectory({ path: dirs })),
      [`directory ${dirs}/one`, `directory ${dirs}/three`]);
    assert.deepEqual(listed(await sbx.files.listDirectory({ path: dirs, depth: 2 })),
      [`directory ${dirs}/one`, `directory ${dirs}/one/two`, `directory ${dirs}/three`, `file ${dirs}/one/file.txt`]);

    await sbx.files.deleteDirectories([`${dirs}/one`]);
    assert.deepEqual(listed(await sbx.files.listDirectory({ path: dirs })), [`directory ${dirs}/three`]);
    await apiError(sbx.files.getFileInfo([`${dirs}/one/file.txt`]), ...fileNotFound(`${dirs}/one/file.txt`));
    await sbx.files.deleteDirectories([dirs]);
    await apiError(sbx.files.getFileInfo([dirs]), ...fileNotFound(dirs));
  });
});
