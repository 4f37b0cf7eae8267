/**
 * The layers of runtime/ (the README's "Layers" list, decided from the
 * imports) and the ESLint rule `patchbay/import-zones` that enforces them:
 * a file may import its own zone and any zone of a lower layer, never one of
 * its own layer or a higher one. Zones of one layer are independent of each
 * other. Every relative specifier counts: `import`, `import type`,
 * `export … from`, `import()`, `import('…')` types and `import x = require('…')`.
 *
 * A folder (or a file directly in runtime/) that is in no zone is an error
 * too: a new folder gets its place here.
 */
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Lowest first. Each entry is one layer: its zones, by folder (or file stem directly in runtime/). */
export const LAYERS = [
  ['wasm', 'log', 'config'], // the parser's boundary; logging; the configuration's shape (config.ts, config-schema.ts)
  ['pool', 'sip'], // worker-pool parsing; MessageView readers and message builders
  ['transport'], // UDP, TCP/TLS, the loop transport
  ['transaction'], // RFC 3261 section 17
  ['auth'], // admission, digest, rate limits
  ['dialog'], // dialogs, the B2BUA relay
  ['media', 'store', 'twiml', 'webhooks'], // rtpengine and audio; the call store; TwiML documents; the webhook client
  ['calls'], // the call layer: sessions, verbs, dial, transfer
  ['daemon', 'cdr'], // the daemon wiring; call records
  ['metrics'], // Prometheus text
  ['http'], // REST API, events, metrics endpoint
  ['cli', 'index'], // the command; the package's entry point
];

/** Files directly in runtime/ that belong to a zone named otherwise. */
const FILE_ZONES = { 'config-schema': 'config' };

const RANK = new Map(LAYERS.flatMap((zones, rank) => zones.map((z) => [z, rank])));

/** The layers as one line, lowest first: `wasm, log, config < pool, sip < …`. */
export const ORDER = LAYERS.map((zones) => zones.join(', ')).join(' < ');

/** The repository root: zones are the folders of <root>/runtime. */
const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** @return the zone of a path under runtime/ ('' when the path is not under runtime/). */
export function zoneOf(root, file) {
  const rel = relative(resolve(root, 'runtime'), file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return '';
  const first = rel.split(sep)[0];
  if (!rel.includes(sep)) {
    const stem = first.replace(/\.(d\.)?[cm]?[jt]sx?$/, '');
    return FILE_ZONES[stem] ?? stem;
  }
  return first;
}

/** Specifier string of a node that names a module, or undefined. */
function specifierOf(node) {
  const s = node.source ?? node.argument ?? node.expression;
  if (!s) return undefined;
  if (s.type === 'Literal' && typeof s.value === 'string') return s.value;
  if (s.type === 'TSLiteralType' && s.literal?.type === 'Literal' && typeof s.literal.value === 'string') return s.literal.value;
  return undefined;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'runtime/ imports point down the layers only (scripts/import-zones.mjs)' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: {
      upward: 'runtime/{{from}} (layer {{fromRank}}) may not import runtime/{{to}} (layer {{toRank}}): imports point down only, {{order}}',
      sibling: 'runtime/{{from}} may not import runtime/{{to}}: they are independent zones of layer {{fromRank}} ({{order}})',
      unplaced: 'runtime/{{zone}} is in no layer: give it its place in LAYERS of scripts/import-zones.mjs',
      assembly: 'runtime/{{from}} may not import assembly/ sources: the runtime reads the ABI through runtime/wasm (abi.generated.ts) and the built .wasm',
      outside: 'runtime/{{from}} may not import {{to}}/: the package ships runtime/ alone',
    },
  },
  create(context) {
    const root = context.options[0]?.root ?? DEFAULT_ROOT;
    const filename = context.filename;
    const from = zoneOf(root, filename);
    if (!from) return {};
    const fromRank = RANK.get(from);
    const check = (node) => {
      const spec = specifierOf(node);
      if (!spec || !(spec.startsWith('./') || spec.startsWith('../'))) return;
      const target = resolve(dirname(filename), spec);
      const to = zoneOf(root, target);
      const data = { from, to, fromRank, toRank: RANK.get(to), order: ORDER };
      if (!to) {
        const top = relative(root, target).split(sep)[0];
        if (top === 'assembly') context.report({ node, messageId: 'assembly', data });
        else if (top === 'test' || top === 'bench' || top === 'scripts') context.report({ node, messageId: 'outside', data: { ...data, to: top } });
        return;
      }
      if (to === from || fromRank === undefined) return;
      if (data.toRank === undefined) context.report({ node, messageId: 'unplaced', data: { zone: to } });
      else if (data.toRank > fromRank) context.report({ node, messageId: 'upward', data });
      else if (data.toRank === fromRank) context.report({ node, messageId: 'sibling', data });
    };
    return {
      Program(node) {
        if (fromRank === undefined) context.report({ node, messageId: 'unplaced', data: { zone: from } });
      },
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
      TSImportType: check,
      TSExternalModuleReference: check,
    };
  },
};

/** The ESLint plugin: `patchbay/import-zones`. */
export const plugin = { meta: { name: 'patchbay' }, rules: { 'import-zones': rule } };
