// `sandflow serve`'s egress API driven through the official OpenSandbox JavaScript SDK:
// getEgressPolicy, patchEgressRules and deleteEgressRules on a sandbox created with a
// network policy, through the port-18080 endpoint the SDK resolves at create.
//
// Environment (set by run-sdk-tests): OPEN_SANDBOX_DOMAIN and OPEN_SANDBOX_API_KEY, read by
// the SDK itself, and OPENSANDBOX_DISABLE_METRICS=1.

import { test } from "node:test";
import assert from "node:assert/strict";

import { Sandbox, SandboxApiException } from "@alibaba-group/opensandbox";

for (const name of ["OPEN_SANDBOX_DOMAIN", "OPEN_SANDBOX_API_KEY"]) {
  if (!process.env[name]) throw new Error(`${name} is not set: run this through run-sdk-tests`);
}

/// A sandbox for `t`, killed when `t` ends, whether it passes or not.
async function sandboxFor(t, networkPolicy) {
  const sbx = await Sandbox.create({ image: "debian:12", timeoutSeconds: 600, networkPolicy });
  t.after(async () => {
    await sbx.kill();
    await sbx.close();
  });
  return sbx;
}

/// The SandboxApiException `promise` rejects with: the egress API answers errors in plain
/// text, which the SDK keeps as the raw body under its own code.
async function egressError(promise, status) {
  const err = await promise.then(
    () => assert.fail("expected the call to fail, but it succeeded"),
    (caught) => caught);
  assert.ok(err instanceof SandboxApiException, `expected a SandboxApiException, got ${err?.name}: ${err?.message}`);
  assert.equal(err.statusCode, status, `${err.message}: ${err.rawBody}`);
  assert.equal(typeof err.rawBody, "string");
  return err;
}

test("deny-all: read, add rules (merged, first wins), read again, delete", async (t) => {
  const sbx = await sandboxFor(t, { defaultAction: "deny", egress: [] });
  assert.deepEqual(await sbx.getEgressPolicy(), { defaultAction: "deny", egress: [] });

  await sbx.patchEgressRules([
    { action: "allow", target: "api.example.com" },
    { action: "allow", target: "*.pypi.org" },
    { action: "deny", target: "api.example.com" },   // a repeated target: the first rule wins
  ]);
  assert.deepEqual(await sbx.getEgressPolicy(), {
    defaultAction: "deny",
    egress: [
      { action: "allow", target: "api.example.com" },
      { action: "allow", target: "*.pypi.org" },
    ],
  });

  // Later rules come first and replace the ones for the same target.
  await sbx.patchEgressRules([{ action: "deny", target: "*.PYPI.org" }]);
  assert.deepEqual((await sbx.getEgressPolicy()).egress, [
    { action: "deny", target: "*.PYPI.org" },
    { action: "allow", target: "api.example.com" },
  ]);

  // Targets compare without case; one the policy does not have is ignored.
  await sbx.deleteEgressRules(["API.EXAMPLE.COM", "never-added.org"]);
  assert.deepEqual(await sbx.getEgressPolicy(), {
    defaultAction: "deny",
    egress: [{ action: "deny", target: "*.PYPI.org" }],
  });
});

test("the mode follows the rules: enforcing with rules, allow_all without", async (t) => {
  const sbx = await sandboxFor(t, { defaultAction: "allow" });
  // The SDK's own client reaches the API it resolved at create, so the status fields the
  // SDK drops are read through the same endpoint.
  const { endpoint, headers } = await sbx.getEndpoint(18080);
  const status = async () => {
    const res = await fetch(`http://${endpoint}/policy`, {
      headers: { ...headers, "OPEN-SANDBOX-API-KEY": process.env.OPEN_SANDBOX_API_KEY },
    });
    assert.equal(res.status, 200);
    return res.json();
  };
  assert.deepEqual(await status(), {
    status: "ok", mode: "allow_all", enforcementMode: "dns", policy: { defaultAction: "allow", egress: [] },
  });
  await sbx.patchEgressRules([{ action: "deny", target: "ads.example.com" }]);
  assert.equal((await status()).mode, "enforcing");
  await sbx.deleteEgressRules(["ads.example.com"]);
  assert.equal((await status()).mode, "allow_all");
});

test("an invalid rule is refused with 400 and changes nothing", async (t) => {
  const sbx = await sandboxFor(t, { defaultAction: "deny" });
  let err = await egressError(sbx.patchEgressRules([{ action: "block", target: "example.com" }]), 400);
  assert.match(err.rawBody, /^invalid policy: /);
  err = await egressError(sbx.patchEgressRules([{ action: "allow", target: "not a host name" }]), 400);
  assert.match(err.rawBody, /not a host name/);
  assert.deepEqual(await sbx.getEgressPolicy(), { defaultAction: "deny", egress: [] });
});

test("a sandbox created without a policy has no egress API: 404", async (t) => {
  const sbx = await sandboxFor(t, undefined);
  const err = await egressError(sbx.getEgressPolicy(), 404);
  assert.match(err.rawBody, /^no egress policy: /);
});
