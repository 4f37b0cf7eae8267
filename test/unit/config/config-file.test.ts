/**
 * The config file, the PATCHBAY_* variables and the flags: every key's type
 * and range is checked, a wrong one refuses to start with one line naming the
 * key (exit 2), the flags' `host:port` strings are accepted in the file, and
 * docs/config.md lists every key.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, defaultConfig, OPTIONS, ConfigError, type Config } from '../../../runtime/config.js';
import { ROOT } from '../../support/wasm.js';

const dir = mkdtempSync(join(tmpdir(), 'patchbay-config-'));
let files = 0;

/** Write `json` (an object, or raw text) to a fresh file; @return its path. */
function file(json: unknown): string {
  const path = join(dir, `config-${files++}.json`);
  writeFileSync(path, typeof json === 'string' ? json : JSON.stringify(json));
  return path;
}

const load = (json: unknown, env: NodeJS.ProcessEnv = {}, argv: string[] = []): Config => loadConfig(['--config', file(json), ...argv], env);

/** The ConfigError message loading `json` gives. */
function errorOf(json: unknown): string {
  try {
    load(json);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(json)}`);
}

describe('config file: shapes the flags take', () => {
  it('"http": "127.0.0.1:8081" (the flag\'s host:port) sets the HTTP address instead of being ignored', () => {
    expect(load({ http: '127.0.0.1:8081' }).http).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(load({ http: '[::1]:8082' }).http).toEqual({ host: '::1', port: 8082 });
  });

  it('"http": {"port": 8081} keeps the default host; {"host", "port"} sets both', () => {
    expect(load({ http: { port: 8081 } }).http).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(load({ http: { host: '0.0.0.0', port: 9000 } }).http).toEqual({ host: '0.0.0.0', port: 9000 });
  });

  it('sip.listen as objects, as flag strings or as one comma-separated string', () => {
    const want = [{ transport: 'udp', host: '127.0.0.1', port: 5070 }, { transport: 'tcp', host: '::1', port: 5071 }];
    expect(load({ sip: { listen: want } }).sip.listen).toEqual(want);
    expect(load({ sip: { listen: ['udp:127.0.0.1:5070', 'tcp:[::1]:5071'] } }).sip.listen).toEqual(want);
    expect(load({ sip: { listen: 'udp:127.0.0.1:5070,tcp:[::1]:5071' } }).sip.listen).toEqual(want);
  });

  it('integers, booleans, lists, credentials and egress profiles', () => {
    const c = load({
      sip: { t1: 100, timerD: '2000' }, parser: { pool: true, maxLineBytes: 4096 }, drainGraceSeconds: 0,
      auth: { allow: ['10.0.0.0/8'], credentials: [{ username: 'alice', password: 's:3' }, 'bob:pw'], algorithms: ['MD5'] },
      routeAuth: { username: 'r', password: 'p' },
      twiml: { webhookThread: false, egress: { us2: { proxy: 'sip:10.0.0.1:5060', source: '10.0.0.5' }, ie1: 'sip:p.example.com' } },
      cdr: { dir: '/tmp/cdr', keep: 3 }, log: { level: 'debug' },
    });
    expect(c.sip).toMatchObject({ t1: 100, timerD: 2000 });
    expect(c.parser).toMatchObject({ pool: true, maxLineBytes: 4096 });
    expect(c.drainGraceSeconds).toBe(0);
    expect(c.auth).toMatchObject({ allow: ['10.0.0.0/8'], credentials: [{ username: 'alice', password: 's:3' }, { username: 'bob', password: 'pw' }], algorithms: ['MD5'] });
    expect(c.routeAuth).toEqual({ username: 'r', password: 'p' });
    expect(c.twiml.webhookThread).toBe(false);
    expect(c.twiml.egress).toEqual({ us2: { proxy: 'sip:10.0.0.1:5060', source: '10.0.0.5' }, ie1: { proxy: 'sip:p.example.com' } });
    expect(c.cdr).toMatchObject({ dir: '/tmp/cdr', keep: 3 });
    expect(c.log.level).toBe('debug');
    expect(load({ auth: { allow: [] } }).auth.allow).toEqual([]);
  });
});

describe('config file: a wrong shape, type or range is an error naming the key', () => {
  it('"http": {"port": "abc"} is refused (it bound a random port)', () => {
    expect(errorOf({ http: { port: 'abc' } })).toMatch(/config-\d+\.json: http\.port: expected an integer, got "abc"$/);
  });

  it.each([
    [{ http: 8081 }, /: http: expected an object \{host, port\} or a "host:port" string, got 8081$/],
    [{ http: 'localhost' }, /: http: expected host:port, got "localhost"$/],
    [{ http: { port: 70000 } }, /: http port: expected an integer 0\.\.65535, got "70000"$/],
    [{ http: { port: 8081, tls: true } }, /: http: unknown key "tls"/],
    [{ sip: 5 }, /: sip: expected an object with keys listen, tlsCert/],
    [{ sip: { t1: 0 } }, /: sip\.t1: expected an integer 1\.\.60000, got "0"$/],
    [{ sip: { t1: 1.5 } }, /: sip\.t1: expected an integer 1\.\.60000, got "1\.5"$/],
    [{ sip: { t1: true } }, /: sip\.t1: expected an integer, got true$/],
    [{ sip: { t1: null } }, /: sip\.t1: expected an integer, got null$/],
    [{ sip: { bogus: 1 } }, /: unknown key "sip\.bogus"/],
    [{ sip: { listen: [{ transport: 'sctp', host: '127.0.0.1', port: 5060 }] } }, /: sip\.listen: expected transport:host:port/],
    [{ sip: { listen: [{ transport: 'udp', host: '127.0.0.1', port: '50a' }] } }, /: sip\.listen\[0\]\.port: expected an integer, got "50a"$/],
    [{ sip: { listen: { transport: 'udp' } } }, /: sip\.listen: expected an array of listeners/],
    [{ parser: { pool: 'yes' } }, /: parser\.pool: expected on or off, got "yes"$/],
    [{ parser: { pool: 1 } }, /: parser\.pool: expected true or false, got 1$/],
    [{ auth: { allow: '10.0.0.0/8,' }, log: { level: 3 } }, /: log\.level: expected a string, got 3$/],
    [{ auth: { credentials: [{ username: 'a' }] } }, /: auth\.credentials\[0\]\.password: expected a string, got nothing$/],
    [{ auth: { algorithms: ['SHA-1'] } }, /: auth\.algorithms: expected SHA-256 and\/or MD5/],
    [{ routeAuth: 'nopassword' }, /: routeAuth: expected user:password/],
    [{ twiml: { egress: { mars: 'sip:x' } } }, /: twiml\.egress: expected region=sip-uri/],
    [{ twiml: { voiceUrl: 'ftp://x' } }, /: twiml\.voiceUrl: expected an http or https URL/],
    [{ ringTimeoutSeconds: '60s' }, /: ringTimeoutSeconds: expected an integer, got "60s"$/],
    [{ route: ['sip:a@b'] }, /: route: expected a string, got \["sip:a@b"\]$/],
    [{ unknown: 1 }, /: unknown key "unknown"/],
    [[1, 2], /: expected a JSON object, got \[1,2\]$/],
  ])('%j', (json, message) => {
    expect(errorOf(json)).toMatch(message);
  });

  it('a file that is not JSON names the file', () => {
    expect(errorOf('{"http": ')).toMatch(/^--config: .*config-\d+\.json is not valid JSON/);
  });
});

describe('environment variables are checked the same way and named in the error', () => {
  it.each([
    ['PATCHBAY_T1', 'abc', /^PATCHBAY_T1: expected an integer 1\.\.60000, got "abc"$/],
    ['PATCHBAY_HTTP', '127.0.0.1', /^PATCHBAY_HTTP: expected host:port, got "127\.0\.0\.1"$/],
    ['PATCHBAY_HTTP', '127.0.0.1:99999', /^PATCHBAY_HTTP port: expected an integer 0\.\.65535/],
    ['PATCHBAY_POOL', 'maybe', /^PATCHBAY_POOL: expected on or off/],
    ['PATCHBAY_LISTEN', 'udp:127.0.0.1', /^PATCHBAY_LISTEN: expected transport:host:port/],
  ])('%s=%s', (name, value, message) => {
    expect(() => loadConfig([], { [name]: value })).toThrow(message);
  });

  it('precedence: flags > environment > file > defaults', () => {
    const path = file({ sip: { t1: 100, t2: 200, t4: 300 } });
    const c = loadConfig(['--config', path, '--t1', '111'], { PATCHBAY_T1: '222', PATCHBAY_T2: '333' });
    expect(c.sip).toMatchObject({ t1: 111, t2: 333, t4: 300, timerD: 32000 });
  });
});

/** Dotted paths of the leaves of the defaults (objects walked, arrays and egress are leaves). */
function leafKeys(node: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(node).flatMap(([k, v]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    return typeof v === 'object' && v !== null && !Array.isArray(v) && key !== 'twiml.egress' && key !== 'http' ? leafKeys(v as Record<string, unknown>, key) : [key];
  });
}

describe('the schema is complete and documented', () => {
  it('every option has a config-file key, and every value of the defaults is some option\'s key', () => {
    const keys = OPTIONS.map((o) => o.key);
    expect(OPTIONS.filter((o) => o.key === undefined).map((o) => o.flag)).toEqual([]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(leafKeys(defaultConfig() as unknown as Record<string, unknown>).filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('docs/config.md has a row for every key, with its flag and variable', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'config.md'), 'utf8');
    const missing = OPTIONS.filter((o) => !doc.split('\n').some((line) => line.startsWith(`| \`${o.key}\` |`) && line.includes(`\`${o.flag}\``) && line.includes(`\`${o.env}\``)));
    expect(missing.map((o) => o.key)).toEqual([]);
  });
});

describe('patchbay serve with a bad config file', () => {
  it('refuses to start: exit code 2 and one line naming the key', () => {
    const path = file({ http: { port: 'abc' } });
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'runtime', 'cli.js'), 'serve', '--config', path], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`patchbay serve: ${path}: http.port: expected an integer, got "abc"\n`);
  });
});
