/**
 * The command line of `patchbay serve`: `--flag value` and `--flag=value`,
 * flags over the environment, the last of a repeated flag wins, and every
 * refusal (unknown option, positional argument, missing value, bad value)
 * is one line naming the argument as typed, exit 2.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../../runtime/config.js';
import { ROOT } from '../../support/wasm.js';

/** The ConfigError message `argv` gives. */
function errorOf(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(argv)}`);
}

describe('serve argv', () => {
  it('takes --flag value and --flag=value, an empty inline value and a value that starts with a dash', () => {
    const c = loadConfig(['--t1', '100', '--t2=2000', '--realm=', '--auth-token', '-secret', '--listen', 'udp:[::1]:5070,tcp:127.0.0.1:5071'], {});
    expect(c.sip.t1).toBe(100);
    expect(c.sip.t2).toBe(2000);
    expect(c.auth.realm).toBe('');
    expect(c.twiml.authToken).toBe('-secret');
    expect(c.sip.listen).toEqual([{ transport: 'udp', host: '::1', port: 5070 }, { transport: 'tcp', host: '127.0.0.1', port: 5071 }]);
  });

  it('a value may be a=b (split at the first =) or look like another flag', () => {
    expect(loadConfig(['--auth-token=a=b'], {}).twiml.authToken).toBe('a=b');
    expect(loadConfig(['--auth-token', '--t1'], {}).twiml.authToken).toBe('--t1');
  });

  it('flags win over PATCHBAY_* variables; the last of a repeated flag wins', () => {
    expect(loadConfig(['--t1', '300'], { PATCHBAY_T1: '200' }).sip.t1).toBe(300);
    expect(loadConfig([], { PATCHBAY_T1: '200' }).sip.t1).toBe(200);
    expect(loadConfig(['--t1', '300', '--t1=400'], {}).sip.t1).toBe(400);
  });

  it('refuses unknown options, short options, positionals and -- with the argument as typed', () => {
    expect(errorOf(['--bogus', '1'])).toBe('unknown option "--bogus" (see patchbay serve --help)');
    expect(errorOf(['--bogus=1'])).toBe('unknown option "--bogus=1" (see patchbay serve --help)');
    expect(errorOf(['-x'])).toBe('unknown option "-x" (see patchbay serve --help)');
    expect(errorOf(['-abc'])).toBe('unknown option "-abc" (see patchbay serve --help)');
    expect(errorOf(['--t1', '100', 'extra'])).toBe('unknown option "extra" (see patchbay serve --help)');
    expect(errorOf(['--', '--t1', '100'])).toBe('unknown option "--" (see patchbay serve --help)');
    expect(errorOf(['--constructor', 'x'])).toBe('unknown option "--constructor" (see patchbay serve --help)');
  });

  it('refuses a flag without a value, --config included (it was silently ignored)', () => {
    expect(errorOf(['--t1'])).toBe('--t1: missing value');
    expect(errorOf(['--t2', '100', '--voice-url'])).toBe('--voice-url: missing value');
    expect(errorOf(['--config'])).toBe('--config: missing value');
  });

  it('a bad value names the flag and what it expects', () => {
    expect(errorOf(['--t1', 'abc'])).toBe('--t1: expected an integer 1..60000, got "abc"');
    expect(errorOf(['--pool=maybe'])).toBe('--pool: expected on or off, got "maybe"');
    expect(errorOf(['--listen', 'udp:nowhere'])).toBe('--listen: expected transport:host:port (e.g. udp:127.0.0.1:5060), got "udp:nowhere"');
  });

  it('patchbay serve exits 2 with one line on stderr', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'runtime', 'cli.js'), 'serve', '--t1', '100', '--bogus'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('patchbay serve: unknown option "--bogus" (see patchbay serve --help)\n');
  });
});
