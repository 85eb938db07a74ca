// A validating proxy in front of `sandflow serve`: clients talk to it as to an OpenSandbox
// server; it passes every request on unchanged and judges the request and its answer with
// Prism's own router and validators against the upstream specs, writing one JSON line per
// exchange to REPORT.
//
//   node validating-proxy.mjs PORT SERVE_ADDRESS REPORT SPEC...
//
// Why not `prism proxy`: it reads every body as UTF-8 text (binary uploads and downloads
// arrive changed) and holds a streamed answer until it ends (a client never sees a command's
// first event, so it cannot interrupt it). Here the bytes go through untouched and streams
// flow as they come; Prism judges a copy. Prism's pipeline is kept whole (routing, security,
// request and response validation); only its forwarder is replaced.
//
// Where Prism cannot judge, this does, and says so in the report:
// - Streams (`text/event-stream`): Prism parses a body as one JSON document and calls every
//   stream "not an object". execd's streams are JSON objects separated by blank lines (with
//   or without SSE's `data:`); each event is checked against the schema the operation
//   declares for its stream, and Prism's whole-body finding is set aside.
// - Requests no spec describes (serve's `GET /health`, services on other ports reached by
//   the proxy route) are passed on and reported as unjudged.
import http from 'node:http';
import { appendFileSync } from 'node:fs';
import { createInstance, getHttpOperationsFromSpec } from '@stoplight/prism-http';
import { createLogger } from '@stoplight/prism-core';
import Ajv from 'ajv';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';

const [port, serveAddress, report, ...specs] = process.argv.slice(2);
if (specs.length === 0) {
    console.error('usage: node validating-proxy.mjs PORT SERVE_ADDRESS REPORT SPEC...');
    process.exit(2);
}
const [serveHost, servePort] = serveAddress.split(':');

const operations = (await Promise.all(specs.map((spec) => getHttpOperationsFromSpec(spec)))).flat();
const logger = createLogger('contract', { level: 'silent' });

// The stream schemas, from the dereferenced operations Prism routes with.
// Prism's dereferenced schemas name draft-07 as their dialect; Ajv's default.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const streamValidator = new Map();
for (const operation of operations)
    for (const response of operation.responses ?? [])
        for (const content of response.contents ?? [])
            if (content.mediaType === 'text/event-stream' && content.schema)
                streamValidator.set(operation, ajv.compile(withoutDialect(content.schema)));

function withoutDialect(schema) {
    const { $schema, ...rest } = schema;
    return rest;
}

/// The events of an execd stream: JSON objects, one per paragraph, `data:` optional.
function streamEvents(text) {
    return text
        .split(/\r?\n\r?\n/)
        .map((paragraph) => paragraph.split(/\r?\n/).map((line) => line.replace(/^data: ?/, '')).join('\n').trim())
        .filter((event) => event.length > 0);
}

function streamViolations(validate, text) {
    const violations = [];
    streamEvents(text).forEach((raw, index) => {
        let event;
        try {
            event = JSON.parse(raw);
        } catch {
            violations.push({ location: ['response', 'body', `event ${index}`], severity: 'Error',
                              message: `not JSON: ${raw.slice(0, 200)}` });
            return;
        }
        if (!validate(event))
            for (const error of validate.errors)
                violations.push({ location: ['response', 'body', `event ${index}`, ...error.instancePath.split('/').filter(Boolean)],
                                  severity: 'Error', message: `${error.message} (${raw.slice(0, 200)})` });
    });
    return violations;
}

/// What Prism makes of a body: JSON for JSON media types, text otherwise (and for 204).
function parseBody(buffer, contentType, status) {
    const text = buffer.toString('utf8');
    if (status !== 204 && /^application\/([\w.+-]+\+)?json\b/.test(contentType ?? '')) {
        try {
            return JSON.parse(text);
        } catch {
            return text;
        }
    }
    return text;
}

function queryOf(searchParams) {
    const query = {};
    for (const key of searchParams.keys()) {
        const values = searchParams.getAll(key);
        query[key] = values.length === 1 ? values[0] : values;
    }
    return query;
}

/// Prism's forwarder, replaced: the request's own bytes go to serve, the answer streams back
/// to the client as it comes, and Prism gets the whole answer, parsed, once it has ended.
function forwarderFor(request, rawBody, response) {
    return TE.tryCatch(() => new Promise((resolve, reject) => {
        const upstream = http.request({ host: serveHost, port: Number(servePort), method: request.method,
                                        path: request.url, headers: request.headers }, (answer) => {
            response.writeHead(answer.statusCode, answer.rawHeaders);
            const chunks = [];
            answer.on('data', (chunk) => {
                chunks.push(chunk);
                response.write(chunk);
            });
            answer.on('end', () => {
                response.end();
                const body = Buffer.concat(chunks);
                resolve({ statusCode: answer.statusCode, headers: answer.headers,
                          body: parseBody(body, answer.headers['content-type'], answer.statusCode), raw: body });
            });
            answer.on('error', reject);
        });
        upstream.on('error', reject);
        upstream.end(rawBody);
    }), E.toError);
}

const config = { checkSecurity: true, validateRequest: true, validateResponse: true, errors: false,
                 upstreamProxy: undefined, isProxy: true, upstream: new URL(`http://${serveAddress}`), mock: {} };

function record(entry) {
    entry.ms = Date.now() - entry.started;
    appendFileSync(report, JSON.stringify(entry) + '\n');
}

const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', async () => {
        const rawBody = Buffer.concat(chunks);
        const url = new URL(request.url, 'http://proxy');
        const input = { method: request.method.toLowerCase(),
                        url: { path: url.pathname, query: queryOf(url.searchParams) },
                        headers: request.headers,
                        body: rawBody.length > 0 ? parseBody(rawBody, request.headers['content-type']) : null };
        let judged = null;
        const prism = createInstance(config, {
            logger,
            // Prism's shape: (call, upstream, upstreamProxy, operation) => logger => TaskEither.
            forward: (call, href, proxy, resource) => {
                judged = resource ?? null;
                return () => forwarderFor(request, rawBody, response);
            },
        });
        const result = await prism.request(input, operations, config)();
        const entry = { method: request.method, path: url.pathname, query: url.search, started: Date.now() };
        if (E.isLeft(result)) {
            entry.status = 0;
            entry.violations = [{ location: ['proxy'], severity: 'Error', message: String(result.left) }];
            if (!response.headersSent)
                response.writeHead(502).end();
            else
                response.destroy();
            record(entry);
            return;
        }
        const { output, validations } = result.right;
        entry.status = output.statusCode;
        // What check-report.mjs needs to tell the findings it explains from the others.
        if (request.headers['x-request-id'] !== undefined)
            entry.sentRequestId = request.headers['x-request-id'];
        if (typeof output.body?.code === 'string')
            entry.code = output.body.code;
        if (!judged) {
            entry.unjudged = 'no operation of the specs matches';
            record(entry);
            return;
        }
        entry.operation = `${judged.method.toUpperCase()} ${judged.path}`;
        const isStream = (output.headers['content-type'] ?? '').startsWith('text/event-stream');
        const prefixed = (where) => (v) => ({ location: [where, ...(v.location ?? [])], severity: severityName(v.severity),
                                             code: v.code, message: v.message });
        let outputViolations = validations.output.map(prefixed('response'));
        if (isStream && streamValidator.has(judged)) {
            // Prism's one finding on a stream is about the body as a whole document.
            outputViolations = outputViolations.filter((v) => !/^Response body must be /.test(v.message));
            outputViolations.push(...streamViolations(streamValidator.get(judged), output.raw.toString('utf8')));
        }
        entry.violations = [...validations.input.map(prefixed('request')), ...outputViolations];
        record(entry);
    });
});

function severityName(severity) {
    return typeof severity === 'number' ? ['Error', 'Warning', 'Information', 'Hint'][severity] : severity;
}

server.listen(Number(port), '127.0.0.1', () => console.log(`validating-proxy: listening on 127.0.0.1:${server.address().port}`));
for (const signal of ['SIGTERM', 'SIGINT'])
    process.on(signal, () => process.exit(0));
