/**
 * The JSON config file's schema. Each option of runtime/config.ts names its
 * key in the file (a dotted path such as `sip.t1`) and the JSON it takes
 * there; a value is checked against that shape and turned into the option's
 * flag text, so the file, the PATCHBAY_* variables and the flags share one
 * parser and one set of ranges. Every key also takes the flag's text as a
 * string (`"http": "127.0.0.1:8081"`). A value of the wrong type, a value out
 * of range or a key that is not in the table is an error naming the key:
 * nothing in a file is ignored or guessed.
 */
import type { Config } from './config.js';

/** A configuration problem, reported to the user with the option or key that caused it. */
export class ConfigError extends Error {
  readonly code = 'PB_ERR_CONFIG_INVALID';
}

/** Turns a file value at `key` into the option's flag text (config: the values so far, for partial objects). */
export type JsonConverter = (value: unknown, key: string, config: Config) => string;

/**
 * The JSON an option takes in the file besides its flag text: a string, an
 * integer, a boolean, a list of strings (or one comma-separated string), or
 * an object/array shape read by a converter. `type` names it in docs/config.md.
 */
export interface JsonShape {
  type: string;
  convert: JsonConverter;
}

/** What the file reader needs of an option. */
export interface KeyedOption {
  flag: string;
  env: string;
  /** Dotted path in the config file; options without one cannot be set from it. */
  key?: string;
  /** Default JSON.string. */
  json?: JsonShape;
  apply(config: Config, value: string): void;
}

const show = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));

/** The error for a value of the wrong shape. */
export function expected(key: string, what: string, value: unknown): ConfigError {
  return new ConfigError(`${key}: expected ${what}, got ${show(value)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as an object with only `allowed` keys. */
function object(value: unknown, key: string, allowed: readonly string[], what: string): Record<string, unknown> {
  if (!isObject(value)) throw expected(key, what, value);
  for (const name of Object.keys(value)) if (!allowed.includes(name)) throw new ConfigError(`${key}: unknown key "${name}" (expected ${allowed.join(', ')})`);
  return value;
}

function str(value: unknown, key: string): string {
  if (typeof value !== 'string') throw expected(key, 'a string', value);
  return value;
}

function intText(value: unknown, key: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return value.trim();
  throw expected(key, 'an integer', value);
}

function userPassword(value: unknown, key: string): string {
  if (typeof value === 'string') return value;
  const o = object(value, key, ['username', 'password'], 'an object {username, password} or a "user:password" string');
  return `${str(o.username, `${key}.username`)}:${str(o.password, `${key}.password`)}`;
}

/** JSON shapes shared by options. */
export const JSON_SHAPES = {
  string: { type: 'string', convert: (v, k) => str(v, k) },
  integer: { type: 'integer', convert: (v, k) => intText(v, k) },
  boolean: {
    type: 'boolean',
    convert: (v, k) => {
      if (typeof v === 'boolean') return v ? 'on' : 'off';
      if (typeof v === 'string') return v;
      throw expected(k, 'true or false', v);
    },
  },
  list: {
    type: 'string[]',
    convert: (v, k) => {
      if (typeof v === 'string') return v;
      if (!Array.isArray(v)) throw expected(k, 'an array of strings', v);
      return v.map((item, i) => str(item, `${k}[${i}]`)).join(',');
    },
  },
  /** `{"host": …, "port": …}` (either may be left out) or `"host:port"`. */
  hostPort: {
    type: '{host, port} | "host:port"',
    convert: (v, k, config) => {
      if (typeof v === 'string') return v;
      const o = object(v, k, ['host', 'port'], 'an object {host, port} or a "host:port" string');
      const host = o.host === undefined ? config.http.host : str(o.host, `${k}.host`);
      const port = o.port === undefined ? String(config.http.port) : intText(o.port, `${k}.port`);
      return `${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
  },
  /** `[{"transport", "host", "port"}, …]`, `["udp:host:port", …]` or one comma-separated string. */
  listeners: {
    type: '[{transport, host, port}] | "transport:host:port,…"',
    convert: (v, k) => {
      if (typeof v === 'string') return v;
      if (!Array.isArray(v)) throw expected(k, 'an array of listeners {transport, host, port}', v);
      return v.map((item, i) => {
        if (typeof item === 'string') return item;
        const at = `${k}[${i}]`;
        const o = object(item, at, ['transport', 'host', 'port'], 'a listener {transport, host, port}');
        const host = str(o.host, `${at}.host`);
        return `${str(o.transport, `${at}.transport`)}:${host.includes(':') ? `[${host}]` : host}:${intText(o.port, `${at}.port`)}`;
      }).join(',');
    },
  },
  /** `{"username", "password"}` or `"user:password"`. */
  userPassword: { type: '{username, password} | "user:password"', convert: (v, k) => userPassword(v, k) },
  /** `[{"username", "password"}, …]`, `["user:password", …]` or one comma-separated string. */
  userPasswords: {
    type: '[{username, password}] | "user:password,…"',
    convert: (v, k) => {
      if (typeof v === 'string') return v;
      if (!Array.isArray(v)) throw expected(k, 'an array of {username, password}', v);
      return v.map((item, i) => userPassword(item, `${k}[${i}]`)).join(',');
    },
  },
  /** `{"us2": "sip:proxy" | {"proxy", "source"}, …}` or the flag's `region=uri,region.source=ip` text. */
  egress: {
    type: '{region: {proxy, source}} | "region=uri,…"',
    convert: (v, k) => {
      if (typeof v === 'string') return v;
      if (!isObject(v)) throw expected(k, 'an object of egress profiles by region', v);
      return Object.entries(v).flatMap(([region, profile]) => {
        if (typeof profile === 'string') return [`${region}=${profile}`];
        const o = object(profile, `${k}.${region}`, ['proxy', 'source'], 'a profile {proxy, source} or a sip: URI');
        return (['proxy', 'source'] as const).filter((p) => o[p] !== undefined).map((p) => `${region}.${p}=${str(o[p], `${k}.${region}.${p}`)}`);
      }).join(',');
    },
  },
} satisfies Record<string, JsonShape>;

/** Rethrow a flag's error under another name (the file key or the variable): `--t1: …` → `PATCHBAY_T1: …`. */
export function renamed(err: unknown, flag: string, name: string): unknown {
  if (!(err instanceof ConfigError)) return err;
  const message = err.message.startsWith(flag) ? `${name}${err.message.slice(flag.length)}` : `${name}: ${err.message}`;
  return new ConfigError(message);
}

/**
 * Apply a parsed config file to `config`, key by key in the file's order.
 * @param path - the file's name, first in every message
 * @throws ConfigError naming the file and the key
 */
export function applyFile(options: readonly KeyedOption[], config: Config, file: unknown, path: string): void {
  if (!isObject(file)) throw new ConfigError(`${path}: expected a JSON object, got ${show(file)}`);
  const keyed = options.filter((o) => o.key !== undefined);
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(node)) {
      const key = prefix === '' ? name : `${prefix}.${name}`;
      const option = keyed.find((o) => o.key === key);
      if (option) {
        let text: string;
        try {
          text = (option.json ?? JSON_SHAPES.string).convert(value, key, config);
        } catch (err) {
          throw err instanceof ConfigError ? new ConfigError(`${path}: ${err.message}`) : err;
        }
        try {
          option.apply(config, text);
        } catch (err) {
          throw renamed(err, option.flag, `${path}: ${key}`);
        }
        continue;
      }
      const children = keyed.filter((o) => o.key!.startsWith(`${key}.`)).map((o) => o.key!.slice(key.length + 1).split('.')[0]!);
      if (children.length === 0) throw new ConfigError(`${path}: unknown key "${key}" (the keys are listed in docs/config.md)`);
      if (!isObject(value)) throw new ConfigError(`${path}: ${key}: expected an object with keys ${[...new Set(children)].join(', ')}, got ${show(value)}`);
      walk(value, key);
    }
  };
  walk(file, '');
}
