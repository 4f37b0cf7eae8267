/**
 * The TCP/TLS limits as a user sets them: defaults, flags, PATCHBAY_* env,
 * JSON config keys, a refused bad value naming the option, and --help.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, serveHelp } from '../../../runtime/config.js';
import { STREAM_DEFAULTS } from '../../../runtime/transport/stream-transport.js';

describe('TCP/TLS limit options', () => {
  it('default to the transport defaults', () => {
    const { sip } = loadConfig([], {});
    expect(sip.tcpMaxConnections).toBe(STREAM_DEFAULTS.maxConnections);
    expect(sip.tcpMaxConnectionsPerSource).toBe(STREAM_DEFAULTS.maxConnectionsPerSource);
    expect(sip.tcpMessageTimeoutSeconds * 1000).toBe(STREAM_DEFAULTS.messageTimeoutMs);
    expect(sip.tcpIdleTimeoutSeconds * 1000).toBe(STREAM_DEFAULTS.idleTimeoutMs);
  });

  it('are read from flags, environment and the config file, flags first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-stream-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ sip: { tcpMaxConnections: 500, tcpMaxConnectionsPerSource: 7, tcpMessageTimeoutSeconds: 9, tcpIdleTimeoutSeconds: 99 } }));
    const fromFile = loadConfig(['--config', file], {}).sip;
    expect([fromFile.tcpMaxConnections, fromFile.tcpMaxConnectionsPerSource, fromFile.tcpMessageTimeoutSeconds, fromFile.tcpIdleTimeoutSeconds]).toEqual([500, 7, 9, 99]);
    const env = { PATCHBAY_TCP_MAX_PER_SOURCE: '12', PATCHBAY_TCP_MESSAGE_TIMEOUT: '15' };
    const both = loadConfig(['--config', file, '--tcp-max-per-source', '3', '--tcp-idle-timeout=60', '--tcp-max-connections', '1000'], env).sip;
    expect([both.tcpMaxConnections, both.tcpMaxConnectionsPerSource, both.tcpMessageTimeoutSeconds, both.tcpIdleTimeoutSeconds]).toEqual([1000, 3, 15, 60]);
  });

  it('refuse a bad value with an error naming the option', () => {
    expect(() => loadConfig(['--tcp-max-per-source', '0'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--tcp-max-per-source', '0'], {})).toThrow(/--tcp-max-per-source: expected an integer 1\.\./);
    expect(() => loadConfig([], { PATCHBAY_TCP_MESSAGE_TIMEOUT: 'soon' })).toThrow(/PATCHBAY_TCP_MESSAGE_TIMEOUT/);
  });

  it('are listed in --help with their defaults', () => {
    const help = serveHelp();
    for (const [flag, env, dflt] of [
      ['--tcp-max-connections', 'PATCHBAY_TCP_MAX_CONNECTIONS', '4096'], ['--tcp-max-per-source', 'PATCHBAY_TCP_MAX_PER_SOURCE', '128'],
      ['--tcp-message-timeout', 'PATCHBAY_TCP_MESSAGE_TIMEOUT', '20'], ['--tcp-idle-timeout', 'PATCHBAY_TCP_IDLE_TIMEOUT', '180'],
    ]) {
      const line = help.split('\n').find((l) => l.includes(`${flag} VALUE`));
      expect(line).toContain(env);
      expect(line).toContain(`(default ${dflt})`);
    }
  });
});
