/** The media engine's pure parts: `--rtpengine` targets, DTMF log datagrams, port ranges, restart backoff. */
import { describe, expect, it } from 'vitest';
import { parseDtmfLog, parseRtpengineTargets } from '../../../runtime/media/engine.js';
import { chooseRtpRange, restartDelay } from '../../../runtime/media/supervisor.js';
import { ConfigError } from '../../../runtime/config.js';
import { MediaConfigError } from '../../../runtime/media/errors.js';

describe('parseRtpengineTargets', () => {
  it('reads one or several udp:HOST:PORT entries, IPv6 in brackets', () => {
    expect(parseRtpengineTargets('udp:127.0.0.1:2223')).toEqual([{ host: '127.0.0.1', port: 2223 }]);
    expect(parseRtpengineTargets('udp:10.0.0.1:2223, udp:[::1]:2224')).toEqual([{ host: '10.0.0.1', port: 2223 }, { host: '::1', port: 2224 }]);
  });

  it.each([
    ['', /empty entry/],
    ['udp:127.0.0.1:2223,', /empty entry/],
    ['tcp:127.0.0.1:2223', /not udp:HOST:PORT/],
    ['127.0.0.1:2223', /not udp:HOST:PORT/],
    ['udp:127.0.0.1', /not udp:HOST:PORT/],
    ['udp:rtpe.example:2223', /not an IP address/],
    ['udp:127.0.0.1:70000', /out of range/],
    ['udp:::1:2223', /not udp:HOST:PORT/],
  ])('refuses %j with a clear error', (spec, message) => {
    expect(() => parseRtpengineTargets(spec)).toThrow(ConfigError);
    expect(() => parseRtpengineTargets(spec)).toThrow(message);
  });
});

describe('parseDtmfLog', () => {
  const dg = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

  it('maps RFC 4733 events to digits: 0-9, 10 = *, 11 = #, 12-15 = A-D', () => {
    const digits = Array.from({ length: 16 }, (_, event) => {
      const r = parseDtmfLog(dg({ callid: 'c', source_tag: 't', event, duration: 800 }));
      return 'event' in r ? r.event.digit : '?';
    });
    expect(digits.join('')).toBe('0123456789*#ABCD');
    expect(parseDtmfLog(dg({ callid: 'c1', source_tag: 'caller', event: 11, duration: 960, volume: 10 }))).toEqual({
      callId: 'c1', event: { digit: '#', event: 11, sourceTag: 'caller', duration: 960 },
    });
  });

  it.each([
    ['not JSON', 'nope', /not JSON/],
    ['not an object', '42', /not a JSON object/],
    ['no callid', { event: 1 }, /no callid/],
    ['event 16', { callid: 'c', event: 16 }, /not 0-15/],
    ['event as text', { callid: 'c', event: '1' }, /not 0-15/],
  ])('refuses %s', (_name, v, reason) => {
    const r = parseDtmfLog(dg(v));
    expect('error' in r && r.error).toMatch(reason);
  });
});

describe('chooseRtpRange', () => {
  it('keeps a range that avoids the given ports', () => {
    expect(chooseRtpRange(30000, 39999, [5060, 8080])).toEqual({ portMin: 30000, portMax: 39999 });
  });

  it('moves the range past avoided ports inside it, keeping its size and an even start', () => {
    const r = chooseRtpRange(30000, 30199, [30100, 30150, 5060]);
    expect(r.portMin % 2).toBe(0);
    expect(r.portMax - r.portMin).toBe(199);
    for (const p of [30100, 30150]) expect(p < r.portMin || p > r.portMax).toBe(true);
  });

  it('refuses an unusable range', () => {
    expect(() => chooseRtpRange(500, 600, [])).toThrow(MediaConfigError);
    expect(() => chooseRtpRange(40000, 40001, [])).toThrow(/at least 4 ports/);
    expect(() => chooseRtpRange(65000, 65500, [65100])).toThrow(/no RTP port range/);
  });
});

describe('restartDelay', () => {
  it('doubles from the initial delay and stops at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => restartDelay(n, 250, 10_000))).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000]);
    expect(restartDelay(1000, 250, 10_000)).toBe(10_000);
  });
});
