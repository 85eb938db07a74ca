// Reads the validating proxy's report and fails on every finding it cannot explain.
//
//   node check-report.mjs REPORT
//
// Prints how many exchanges were judged, the operations they reached, each finding with the
// rule that explains it, and each finding no rule explains; exits 1 when there is one of
// those, or when nothing was judged at all.
import { readFileSync } from 'node:fs';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Each rule: why the finding is right as it is, and which findings it covers. Every rule is
// narrow: one operation or one kind of answer, never a whole spec.
const rules = [
    {
        why: 'a request sent without a key on purpose (the SDK scenario checks the 401); Prism reports the missing key',
        covers: (entry, v) => entry.status === 401 && v.location[0] === 'request' && v.message === 'Invalid security scheme used',
    },
    {
        why: "serve sends a client's own X-Request-ID back as it came (docs/serve.md); the client chose one that is not a UUID",
        covers: (entry, v) => v.location[0] === 'response' && /x-request-id must match format "uuid"/.test(v.message)
            && entry.sentRequestId !== undefined && !uuid.test(entry.sentRequestId),
    },
    {
        why: 'replace without verbose=true answers an empty body, as the spec itself says ("Otherwise, the response body is empty"), while it declares application/json',
        covers: (entry, v) => entry.operation?.endsWith('/files/replace') && entry.status === 200 && !/verbose=true/.test(entry.query)
            && /^(The received media type "" does not match|Response body must be object)/.test(v.message),
    },
    {
        why: "the proxy route's own answer for a sandbox that is gone: no execd or egress API is reached, so their specs cannot list it",
        covers: (entry, v) => /^[A-Z]+ \/sandboxes\/\{sandboxId\}\/proxy\/(44772|18080)\//.test(entry.operation ?? '') && entry.status === 404
            && entry.code === 'DOCKER::SANDBOX_NOT_FOUND' && /^Unable to match the returned status code/.test(v.message),
    },
    {
        why: "a sandbox created without a networkPolicy has no egress API, upstream no sidecar: serve answers its calls 404 in plain text (docs/serve.md)",
        covers: (entry, v) => /^[A-Z]+ \/sandboxes\/\{sandboxId\}\/proxy\/18080\/policy$/.test(entry.operation ?? '') && entry.status === 404
            && /^Unable to match the returned status code/.test(v.message),
    },
    {
        why: "the proxy route's own 409 for an execd route of a paused sandbox, whose execd is frozen (docs/serve.md); execd's spec cannot list it",
        covers: (entry, v) => /^[A-Z]+ \/sandboxes\/\{sandboxId\}\/proxy\/44772\//.test(entry.operation ?? '') && entry.status === 409
            && entry.code === 'DOCKER::SANDBOX_NOT_RUNNING' && /^Unable to match the returned status code/.test(v.message),
    },
    {
        why: "the proxy route's own 503 to a ping of a paused sandbox, whose execd is frozen (docs/serve.md); execd's spec cannot list it",
        covers: (entry, v) => entry.operation === 'GET /sandboxes/{sandboxId}/proxy/44772/ping' && entry.status === 503
            && entry.code === 'RUNTIME_ERROR' && /^Unable to match the returned status code/.test(v.message),
    },
];

// Requests that no spec describes, passed on unjudged.
const unjudgedAllowed = [
    { why: "serve's health check, outside the lifecycle spec", covers: (entry) => entry.method === 'GET' && entry.path === '/health' },
    { why: "a service's own answer on a port other than execd's and the egress API's, relayed by the proxy route",
      covers: (entry) => /^\/sandboxes\/[^/]+\/proxy\/(?!(44772|18080)\/)\d+(\/|$)/.test(entry.path) },
];

const entries = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
const operations = new Map();
const explained = new Map();
const unexplained = [];
for (const entry of entries) {
    if (entry.unjudged) {
        const rule = unjudgedAllowed.find((r) => r.covers(entry));
        if (rule)
            explained.set(rule.why, (explained.get(rule.why) ?? 0) + 1);
        else
            unexplained.push(`${entry.method} ${entry.path} -> ${entry.status}: ${entry.unjudged}`);
        continue;
    }
    if (entry.operation)
        operations.set(entry.operation, (operations.get(entry.operation) ?? 0) + 1);
    for (const v of entry.violations ?? []) {
        const rule = rules.find((r) => r.covers(entry, v));
        if (rule)
            explained.set(rule.why, (explained.get(rule.why) ?? 0) + 1);
        else
            unexplained.push(`${entry.method} ${entry.path}${entry.query ?? ''} -> ${entry.status}: ${v.severity} at ${v.location.join('.')}: ${v.message}`);
    }
}

console.log(`${entries.length} exchanges, ${operations.size} operations of the specs reached:`);
for (const [operation, count] of [...operations].sort())
    console.log(`  ${String(count).padStart(5)}  ${operation}`);
for (const [why, count] of explained)
    console.log(`explained (${count}): ${why}`);
for (const line of unexplained)
    console.log(`VIOLATION: ${line}`);
if (operations.size === 0) {
    console.log('nothing was judged');
    process.exit(1);
}
process.exit(unexplained.length > 0 ? 1 : 0);
