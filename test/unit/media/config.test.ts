/** `--media` and `--rtpengine`: flags, environment, config file, and their errors. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, serveHelp } from '../../../runtime/config.js';

describe('media configuration', () => {
  it('is on by default, with no external rtpengine (an embedded one)', () => {
    expect(loadConfig([], {}).media).toEqual({ enabled: true });
  });

  it('--media off, PATCHBAY_MEDIA=off and {"media": {"enabled": false}} turn it off', () => {
    expect(loadConfig(['--media', 'off'], {}).media.enabled).toBe(false);
    expect(loadConfig([], { PATCHBAY_MEDIA: 'off' }).media.enabled).toBe(false);
    const path = join(mkdtempSync(join(tmpdir(), 'pb-media-config-')), 'patchbay.json');
    writeFileSync(path, JSON.stringify({ media: { enabled: false, rtpengine: ['udp:10.0.0.5:2223'] } }));
    expect(loadConfig(['--config', path], {}).media).toEqual({ enabled: false, rtpengine: [{ host: '10.0.0.5', port: 2223 }] });
    expect(() => loadConfig(['--media', 'maybe'], {})).toThrow('--media: expected on or off, got "maybe"');
  });

  it('--rtpengine takes several udp:HOST:PORT and refuses anything else, naming the entry', () => {
    expect(loadConfig(['--rtpengine', 'udp:127.0.0.1:2223,udp:[::1]:2224'], {}).media.rtpengine).toEqual([{ host: '127.0.0.1', port: 2223 }, { host: '::1', port: 2224 }]);
    expect(loadConfig([], { PATCHBAY_RTPENGINE: 'udp:192.0.2.1:22222' }).media.rtpengine).toEqual([{ host: '192.0.2.1', port: 22222 }]);
    expect(() => loadConfig(['--rtpengine', 'tcp:127.0.0.1:2223'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--rtpengine', 'tcp:127.0.0.1:2223'], {})).toThrow('--rtpengine: "tcp:127.0.0.1:2223" is not udp:HOST:PORT');
    expect(() => loadConfig([], { PATCHBAY_RTPENGINE: 'udp:rtpe:1' })).toThrow(/PATCHBAY_RTPENGINE|not an IP address/);
  });

  it('is in serve --help', () => {
    expect(serveHelp()).toMatch(/--media VALUE\s+PATCHBAY_MEDIA\s+media\.enabled/);
    expect(serveHelp()).toMatch(/--rtpengine VALUE\s+PATCHBAY_RTPENGINE\s+media\.rtpengine/);
  });
});
