// Derives, from the upstream specs in specs/, the documents Prism serves in the contract
// tests. Upstream's paths are relative to each API's server; Prism matches them against the
// request's path alone, so each document is moved to where the wire has it. Nothing else of
// a schema changes, except where named below.
//
//   node prepare-specs.mjs SPEC_DIR OUT_DIR [EXECD_ADDRESS]
//
// Writes to OUT_DIR:
//   lifecycle.yml        the lifecycle API under its server's path, /v1
//   execd-proxied.yml    execd as `sandflow serve` answers it for every sandbox, under the
//                        server-proxy route /sandboxes/{sandboxId}/proxy/44772; that route
//                        takes the lifecycle API key (docs/serve.md), so the key is a second
//                        way to authenticate beside execd's own token
//   egress-proxied.yml   the egress API as serve answers it, under .../proxy/18080, with the
//                        lifecycle API key as its authentication
//   execd.yml            execd at the root, as a sandbox's own execd answers it
//   lifecycle-mock.yml   (with EXECD_ADDRESS) the lifecycle API for Prism's mock: every
//                        endpoint it makes up names EXECD_ADDRESS, the execd mock on loopback,
//                        so that a client under test never looks up a made-up host, with the
//                        header execd's security asks for (X-EXECD-ACCESS-TOKEN),
//                        which the client must pass on as endpoints' headers say; and every
//                        sandbox it describes is Running, so that creates end and clients go
//                        on to execd (a sandbox that never gets ready is the client's unit
//                        tests' case, and costs its 30 s wait)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

const [specDir, outDir, execdAddress] = process.argv.slice(2);
if (!specDir || !outDir) {
    console.error('usage: node prepare-specs.mjs SPEC_DIR OUT_DIR [EXECD_ADDRESS]');
    process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const load = (name) => YAML.parse(readFileSync(join(specDir, name), 'utf8'));
const save = (name, spec) => writeFileSync(join(outDir, name), YAML.stringify(spec, { aliasDuplicateObjects: false }));

/// Every path of `spec` under `prefix`, with `parameters` added to each path item.
function movePaths(spec, prefix, parameters = []) {
    const moved = {};
    for (const [path, item] of Object.entries(spec.paths)) {
        const copy = { ...item };
        if (parameters.length > 0)
            copy.parameters = [...parameters, ...(item.parameters ?? [])];
        moved[prefix + path] = copy;
    }
    spec.paths = moved;
    return spec;
}

const serverPath = (spec) => new URL(spec.servers[0].url).pathname.replace(/\/$/, '');

const lifecycle = load('sandbox-lifecycle.yml');
save('lifecycle.yml', movePaths(structuredClone(lifecycle), serverPath(lifecycle)));

const execd = load('execd-api.yaml');
save('execd.yml', execd);

/// `spec` as serve answers it under its proxy route for `port`, where the lifecycle API key
/// authenticates too.
function underProxyRoute(spec, port) {
    const proxied = movePaths(structuredClone(spec), `/sandboxes/{sandboxId}/proxy/${port}`, [
        { name: 'sandboxId', in: 'path', required: true, schema: { type: 'string' } },
    ]);
    proxied.components.securitySchemes = {
        ...(proxied.components.securitySchemes ?? {}),
        apiKeyAuth: lifecycle.components.securitySchemes.apiKeyAuth,
    };
    proxied.security = [...(proxied.security ?? []), { apiKeyAuth: [] }];
    return proxied;
}

save('execd-proxied.yml', underProxyRoute(execd, 44772));
save('egress-proxied.yml', underProxyRoute(load('egress-api.yaml'), 18080));

if (execdAddress) {
    const mock = movePaths(structuredClone(lifecycle), serverPath(lifecycle));
    const endpoint = mock.components.schemas.Endpoint.properties.endpoint;
    endpoint.const = execdAddress;
    endpoint.examples = [execdAddress];
    const headers = { 'X-EXECD-ACCESS-TOKEN': 'token-from-the-endpoint' };
    Object.assign(mock.components.schemas.Endpoint.properties.headers, { const: headers, examples: [headers] });
    mock.components.schemas.SandboxStatus.properties.state = { type: 'string', const: 'Running', examples: ['Running'] };
    save('lifecycle-mock.yml', mock);
}
