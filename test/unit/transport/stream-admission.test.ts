/**
 * The admission decision of inbound TCP/TLS connections, without sockets:
 * the per-source cap, the share of the total kept for sources holding few
 * connections, the total cap, and slots given back on close.
 */
import { describe, it, expect } from 'vitest';
import { ConnectionAdmission, RESERVED_SLOT_SOURCE_LIMIT, sourceKey } from '../../../runtime/transport/stream-admission.js';

function admitN(a: ConnectionAdmission, source: string, n: number): number {
  let admitted = 0;
  for (let i = 0; i < n; i++) if (a.admit(source)) admitted++;
  return admitted;
}

describe('ConnectionAdmission', () => {
  it('refuses a source at its cap and admits it again once one of its connections closes', () => {
    const a = new ConnectionAdmission({ maxConnections: 100, maxPerSource: 3 });
    expect(admitN(a, '10.0.0.1', 5)).toBe(3);
    expect(a.admit('10.0.0.2')).toBe(true);
    a.release('10.0.0.1');
    expect(a.admit('10.0.0.1')).toBe(true);
    expect(a.stats()).toMatchObject({ open: 4, refused: { 'per-source': 2, reserved: 0, total: 0 } });
  });

  it('keeps the last eighth of the total for sources holding fewer than the reserved-slot limit', () => {
    const a = new ConnectionAdmission({ maxConnections: 64, maxPerSource: 64 });
    // 64 - 64/8 = 56 slots for anyone, then only light sources
    expect(admitN(a, 'heavy', 64)).toBe(56);
    expect(a.stats().refused.reserved).toBe(8);
    expect(admitN(a, 'light-1', 10)).toBe(RESERVED_SLOT_SOURCE_LIMIT);
    expect(admitN(a, 'light-2', RESERVED_SLOT_SOURCE_LIMIT)).toBe(RESERVED_SLOT_SOURCE_LIMIT);
    expect(a.stats().open).toBe(64);
    expect(a.admit('light-3')).toBe(false);
    expect(a.stats().refused.total).toBe(1);
    a.release('light-1');
    expect(a.admit('heavy')).toBe(false);
    expect(a.admit('light-3')).toBe(true);
  });

  it('gives each slot back once, a stray release changes nothing', () => {
    const a = new ConnectionAdmission({ maxConnections: 2, maxPerSource: 2 });
    expect(admitN(a, 'one', 2)).toBe(2);
    a.release('one');
    a.release('one');
    expect(a.stats().open).toBe(0);
    a.release('one');
    expect(a.stats().open).toBe(0);
  });

  it('counts an IPv4 address as itself and an IPv6 address by its /64', () => {
    expect(sourceKey('192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:0DB8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8:1:2:0:0:0:9')).toBe(sourceKey('2001:db8:1:2::a'));
    expect(sourceKey('2001:db8:1:3::1')).not.toBe(sourceKey('2001:db8:1:2::1'));
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('fe80::1%lo')).toBe('fe80:0:0:0::/64');
    expect(sourceKey('not:an::ip::')).toBe('not:an::ip::');
  });
});
