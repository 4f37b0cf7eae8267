/**
 * The per-source rate limit (pike-like) on a fake clock: a flood beyond the
 * density is answered a few times, then dropped, while other sources go on;
 * the block lasts while the flood does; exempt sources are never limited;
 * the table stays bounded whatever the number of sources.
 */
import { describe, expect, it } from 'vitest';
import { createRateLimiter, type RateLimitOptions, type SourceRateLimiter } from '../../../runtime/auth/rate-limit.js';
import { sourceKey } from '../../../runtime/auth/acl.js';

const FLOOD = '203.0.113.66';
const OTHER = '198.51.100.7';

function limiterOf(options: Partial<RateLimitOptions>, clock: { now: number }): SourceRateLimiter {
  const made = createRateLimiter({ requests: 10, windowMs: 1000, blockMs: 5000, maxSources: 1000, exempt: [], now: () => clock.now, ...options });
  if (!made.ok) throw made.error;
  return made.value;
}

/** The verdicts of `n` requests as one string: p(ass), r(eject), d(rop). */
function verdicts(limiter: SourceRateLimiter, ip: string, n: number, method = 'INVITE'): string {
  let out = '';
  for (let i = 0; i < n; i++) out += limiter.check(ip, method).kind[0];
  return out;
}

describe('per-source rate limit', () => {
  it('a flood from one source beyond the limit gets 3 × 503 with Retry-After, then drops, counted by method; another source still gets through', () => {
    const clock = { now: 1_000_000 };
    const blocked: string[] = [];
    const limiter = limiterOf({ onBlock: (source) => blocked.push(source) }, clock);
    expect(verdicts(limiter, FLOOD, 10)).toBe('p'.repeat(10));
    expect(limiter.check(FLOOD, 'INVITE')).toEqual({ kind: 'reject', retryAfterSeconds: 5 });
    expect(verdicts(limiter, FLOOD, 19)).toBe(`rr${'d'.repeat(17)}`);
    expect(verdicts(limiter, FLOOD, 5, 'MADEUP')).toBe('ddddd');
    expect(verdicts(limiter, OTHER, 10)).toBe('p'.repeat(10));
    expect(blocked).toEqual([FLOOD]);
    const stats = limiter.stats();
    expect(stats.blocks).toBe(1);
    expect(stats.limited).toEqual([
      { method: 'INVITE', action: 'rejected', value: 3 },
      { method: 'INVITE', action: 'dropped', value: 17 },
      { method: 'other', action: 'dropped', value: 5 },
    ]);
  });

  it('the block is renewed while the source keeps flooding and ends once it has been quiet', () => {
    const clock = { now: 2_000_000 };
    const limiter = limiterOf({}, clock);
    expect(verdicts(limiter, FLOOD, 11)).toBe(`${'p'.repeat(10)}r`);
    // still over the density for every interval of the block: blocked well past its first 5 s
    let during = '';
    for (let t = 0; t < 10; t++) {
      clock.now += 1000;
      during += verdicts(limiter, FLOOD, 20);
    }
    expect(during).toBe(`rr${'d'.repeat(198)}`);
    clock.now += 6000;
    expect(verdicts(limiter, FLOOD, 10)).toBe('p'.repeat(10));
    // a new block answers its first requests again
    expect(verdicts(limiter, FLOOD, 4)).toBe('rrrd');
    expect(limiter.stats().blocks).toBe(2);
  });

  it('requests within the density never block, however long they go on', () => {
    const clock = { now: 3_000_000 };
    const limiter = limiterOf({}, clock);
    for (let t = 0; t < 100; t++) {
      expect(verdicts(limiter, FLOOD, 10)).toBe('p'.repeat(10));
      clock.now += 1000;
    }
  });

  it('exempt sources (loopback by default) and a limit of 0 are never limited', () => {
    const clock = { now: 4_000_000 };
    const made = createRateLimiter({ requests: 10, windowMs: 1000, blockMs: 5000, maxSources: 100, now: () => clock.now });
    if (!made.ok) throw made.error;
    expect(verdicts(made.value, '127.0.0.1', 5000)).toBe('p'.repeat(5000));
    expect(verdicts(made.value, '::1', 100)).toBe('p'.repeat(100));
    expect(verdicts(made.value, '::ffff:127.0.0.5', 100)).toBe('p'.repeat(100));
    expect(verdicts(limiterOf({ requests: 0 }, clock), FLOOD, 1000)).toBe('p'.repeat(1000));
  });

  it('an IPv6 source is limited by its /64, whatever address of it it uses', () => {
    const clock = { now: 5_000_000 };
    const limiter = limiterOf({}, clock);
    let out = '';
    for (let i = 0; i < 12; i++) out += limiter.check(`2001:db8:1:2::${(i + 1).toString(16)}`, 'INVITE').kind[0];
    expect(out).toBe(`${'p'.repeat(10)}rr`);
    expect(limiter.check('2001:db8:1:3::1', 'INVITE').kind).toBe('pass');
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe(sourceKey('2001:0db8:0001:0002::ffff'));
    expect(sourceKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(sourceKey('not an address')).toBeUndefined();
  });

  it('the table stays bounded with many sources, idle ones are swept, a blocked flood stays blocked', () => {
    const clock = { now: 6_000_000 };
    const limiter = limiterOf({ maxSources: 500 }, clock);
    expect(verdicts(limiter, FLOOD, 14)).toBe(`${'p'.repeat(10)}rrrd`);
    for (let i = 0; i < 100_000; i++) {
      limiter.check(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'INVITE');
      // the flood goes on among them
      if (i % 100 === 0) expect(limiter.check(FLOOD, 'INVITE').kind).toBe('drop');
      expect(limiter.size).toBeLessThanOrEqual(500);
    }
    expect(limiter.stats().evictions).toBeGreaterThan(0);
    // once everyone is quiet, new requests sweep the idle entries away
    clock.now += 60_000;
    for (let i = 0; i < 1000; i++) limiter.check(OTHER, 'INVITE');
    expect(limiter.size).toBe(1);
  });

  it('refuses a bad exempt entry with a typed error', () => {
    const made = createRateLimiter({ requests: 1, windowMs: 1, blockMs: 1, maxSources: 1, exempt: ['10.0.0.0/40'] });
    expect(made.ok).toBe(false);
    if (!made.ok) expect(made.error.code).toBe('PB_ERR_AUTH_BAD_CIDR');
  });
});

describe('rate limit and lockout options', () => {
  it('are on by default with generous limits, loopback exempt, and read from flags, PATCHBAY_* variables and the config file', async () => {
    const { loadConfig } = await import('../../../runtime/config.js');
    expect(loadConfig([], {}).auth).toMatchObject({
      rateLimit: 1000, rateLimitWindowSeconds: 2, rateLimitBlockSeconds: 60, rateLimitExempt: ['127.0.0.0/8', '::1/128'],
      maxTrackedSources: 16384, lockoutFailures: 10, lockoutWindowSeconds: 60, lockoutSeconds: 60,
    });
    const flags = loadConfig(['--rate-limit', '50', '--rate-limit-window', '5', '--rate-limit-block', '30', '--rate-limit-exempt', '10.0.0.0/8, 192.0.2.1',
      '--max-tracked-sources', '100', '--auth-lockout', '3', '--auth-lockout-window', '20', '--auth-lockout-time', '120'], {});
    expect(flags.auth).toMatchObject({
      rateLimit: 50, rateLimitWindowSeconds: 5, rateLimitBlockSeconds: 30, rateLimitExempt: ['10.0.0.0/8', '192.0.2.1'],
      maxTrackedSources: 100, lockoutFailures: 3, lockoutWindowSeconds: 20, lockoutSeconds: 120,
    });
    const env = loadConfig([], { PATCHBAY_RATE_LIMIT: '0', PATCHBAY_RATE_LIMIT_EXEMPT: 'none', PATCHBAY_AUTH_LOCKOUT: '0' });
    expect(env.auth).toMatchObject({ rateLimit: 0, rateLimitExempt: [], lockoutFailures: 0 });
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'pb-ratelimit-'));
    try {
      writeFileSync(join(dir, 'c.json'), JSON.stringify({ auth: { rateLimit: 200, lockoutSeconds: 5, rateLimitExempt: ['10.1.0.0/16'] } }));
      expect(loadConfig(['--config', join(dir, 'c.json')], {}).auth).toMatchObject({ rateLimit: 200, lockoutSeconds: 5, rateLimitExempt: ['10.1.0.0/16'], lockoutFailures: 10 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => loadConfig(['--rate-limit', '-1'], {})).toThrow(/--rate-limit: expected an integer/);
    expect(() => loadConfig(['--auth-lockout-time', '0'], {})).toThrow(/--auth-lockout-time/);
    const { serveHelp } = await import('../../../runtime/config.js');
    for (const flag of ['--rate-limit', '--rate-limit-window', '--rate-limit-block', '--rate-limit-exempt', '--max-tracked-sources', '--auth-lockout', '--auth-lockout-window', '--auth-lockout-time']) {
      expect(serveHelp()).toContain(`${flag} VALUE`);
    }
  });
});
