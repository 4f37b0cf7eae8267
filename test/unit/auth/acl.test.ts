import { describe, expect, it } from 'vitest';
import { DEFAULT_ACL_ENTRIES, createAcl, createDefaultAcl, type Acl, type AclEntry } from '../../../runtime/auth/acl.js';

function aclOf(entries: readonly AclEntry[]): Acl {
  const acl = createAcl(entries);
  if (!acl.ok) throw acl.error;
  return acl.value;
}

describe('default ACL: loopback only', () => {
  const acl = createDefaultAcl();

  it.each(['127.0.0.1', '127.255.255.254', '::1', '[::1]', '::ffff:127.0.0.1', '0:0:0:0:0:ffff:7f00:1', '::FFFF:127.1.2.3'])(
    'allows %s',
    (ip) => expect(acl.isAllowed(ip)).toBe(true),
  );

  it.each(['128.0.0.1', '10.0.0.1', '::2', '::', '::ffff:10.0.0.1', '2001:db8::1', 'fe80::1%eth0', '0.0.0.0'])(
    'refuses %s',
    (ip) => expect(acl.isAllowed(ip)).toBe(false),
  );

  it('holds exactly 127.0.0.0/8 and ::1', () => {
    expect(DEFAULT_ACL_ENTRIES.map((entry) => entry.cidr)).toEqual(['127.0.0.0/8', '::1/128']);
  });
});

describe('IPv4 CIDR', () => {
  const acl = aclOf([
    { action: 'deny', cidr: '10.1.2.3' },
    { action: 'allow', cidr: '10.0.0.0/8' },
    { action: 'allow', cidr: '192.168.1.77/24' },
    { action: 'deny', cidr: '0.0.0.0/0' },
  ]);

  it('first match wins', () => {
    expect(acl.match('10.1.2.3')).toBe('deny');
    expect(acl.match('10.1.2.4')).toBe('allow');
    expect(acl.match('10.255.255.255')).toBe('allow');
    expect(acl.match('11.0.0.0')).toBe('deny');
  });

  it('ignores host bits below the prefix', () => {
    expect(acl.match('192.168.1.1')).toBe('allow');
    expect(acl.match('192.168.2.1')).toBe('deny');
  });

  it('matches IPv4-mapped IPv6 sources against IPv4 rules', () => {
    expect(acl.match('::ffff:10.9.9.9')).toBe('allow');
    expect(acl.match('::ffff:10.1.2.3')).toBe('deny');
    expect(acl.match('::ffff:0a09:0909')).toBe('allow');
  });

  it('never matches IPv6 sources against IPv4 rules, and reports non-addresses as unmatched', () => {
    expect(acl.match('2001:db8::1')).toBeUndefined();
    expect(acl.match('not-an-ip')).toBeUndefined();
    expect(acl.match('10.0.0.256')).toBeUndefined();
    expect(acl.isAllowed('')).toBe(false);
  });
});

describe('IPv6 CIDR', () => {
  const acl = aclOf([
    { action: 'allow', cidr: '2001:db8::/32' },
    { action: 'deny', cidr: '2001:db9::dead/128' },
    { action: 'allow', cidr: '2001:db9::/48' },
    { action: 'allow', cidr: '::ffff:192.0.2.0/120' },
    { action: 'allow', cidr: 'fe80::/10' },
  ]);

  it('matches prefixes of any length', () => {
    expect(acl.isAllowed('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(acl.isAllowed('2001:0DB8:0000::1')).toBe(true);
    expect(acl.isAllowed('2001:db9::dead')).toBe(false);
    expect(acl.isAllowed('2001:db9:0:1::1')).toBe(true);
    expect(acl.isAllowed('2001:db9:1::1')).toBe(false);
    expect(acl.isAllowed('fe80::1%eth0')).toBe(true);
    expect(acl.isAllowed('febf::1')).toBe(true);
    expect(acl.isAllowed('fec0::1')).toBe(false);
  });

  it('a rule written as IPv4-mapped IPv6 matches both the IPv4 and the mapped form', () => {
    expect(acl.isAllowed('192.0.2.200')).toBe(true);
    expect(acl.isAllowed('::ffff:192.0.2.1')).toBe(true);
    expect(acl.isAllowed('192.0.3.1')).toBe(false);
  });

  it('handles embedded IPv4 in non-mapped addresses', () => {
    const compat = aclOf([{ action: 'allow', cidr: '64:ff9b::/96' }]);
    expect(compat.isAllowed('64:ff9b::192.0.2.33')).toBe(true);
    expect(compat.isAllowed('64:ff9c::192.0.2.33')).toBe(false);
  });
});

describe('createAcl errors', () => {
  it.each([
    [{ action: 'allow', cidr: '10.0.0.0/33' }],
    [{ action: 'allow', cidr: '2001:db8::/129' }],
    [{ action: 'allow', cidr: '10.0.0/8' }],
    [{ action: 'allow', cidr: '10.0.0.0/8/8' }],
    [{ action: 'allow', cidr: '10.0.0.0/x' }],
    [{ action: 'allow', cidr: 'example.com' }],
    [{ action: 'maybe', cidr: '10.0.0.0/8' }],
    [{ action: 'allow' }],
    [null],
  ])('refuses %j with PB_ERR_AUTH_BAD_CIDR', (entry) => {
    const acl = createAcl([entry as unknown as AclEntry]);
    expect(acl.ok === false && acl.error.code).toBe('PB_ERR_AUTH_BAD_CIDR');
  });

  it('an empty list matches nothing', () => {
    expect(aclOf([]).match('127.0.0.1')).toBeUndefined();
  });
});

describe('edge prefixes and IPv4-mapped IPv6', () => {
  it('0.0.0.0/0 covers every IPv4 peer, mapped ones included, and no IPv6 peer', () => {
    const acl = aclOf([{ action: 'allow', cidr: '0.0.0.0/0' }]);
    for (const ip of ['0.0.0.0', '1.2.3.4', '255.255.255.255', '::ffff:1.2.3.4', '::ffff:0.0.0.0']) expect(acl.match(ip), ip).toBe('allow');
    for (const ip of ['::', '::1', '2001:db8::1', '::ffff:0:1.2.3.4', '64:ff9b::1.2.3.4']) expect(acl.match(ip), ip).toBeUndefined();
  });

  it('::/0 covers every IPv6 peer and no IPv4 peer, mapped or not (as ::/80, which holds ::ffff:0:0/96)', () => {
    for (const cidr of ['::/0', '::/80']) {
      const acl = aclOf([{ action: 'deny', cidr }]);
      for (const ip of ['::', '::1', '::5']) expect(acl.match(ip), `${cidr} ${ip}`).toBe('deny');
      for (const ip of ['1.2.3.4', '::ffff:1.2.3.4', '::ffff:0102:0304', '[::ffff:1.2.3.4]']) expect(acl.match(ip), `${cidr} ${ip}`).toBeUndefined();
    }
    expect(aclOf([{ action: 'deny', cidr: '::/0' }]).match('fe80::1%eth0')).toBe('deny');
  });

  it('::ffff:0.0.0.0/96 covers every IPv4 peer; a mapped block shorter than /96 covers none', () => {
    const all = aclOf([{ action: 'allow', cidr: '::ffff:0.0.0.0/96' }]);
    for (const ip of ['1.2.3.4', '::ffff:1.2.3.4', '255.255.255.255']) expect(all.match(ip), ip).toBe('allow');
    expect(all.match('::1')).toBeUndefined();
    const short = aclOf([{ action: 'allow', cidr: '::ffff:0:0/95' }]);
    expect(short.match('1.2.3.4')).toBeUndefined();
    expect(short.match('::ffff:1.2.3.4')).toBeUndefined();
  });

  it('/32 and /128 are one address; a bare address is the same', () => {
    const acl = aclOf([{ action: 'allow', cidr: '192.0.2.7/32' }, { action: 'allow', cidr: '2001:db8::7/128' }, { action: 'allow', cidr: '::ffff:198.51.100.9/128' }]);
    expect(acl.match('192.0.2.7')).toBe('allow');
    expect(acl.match('::ffff:192.0.2.7')).toBe('allow');
    expect(acl.match('192.0.2.8')).toBeUndefined();
    expect(acl.match('192.0.2.6')).toBeUndefined();
    expect(acl.match('2001:db8::7')).toBe('allow');
    expect(acl.match('2001:db8:0:0:0:0:0:7')).toBe('allow');
    expect(acl.match('2001:db8::8')).toBeUndefined();
    expect(acl.match('198.51.100.9')).toBe('allow');
    expect(acl.match('::ffff:c633:6409')).toBe('allow');
    expect(acl.match('198.51.100.10')).toBeUndefined();
    const bare = aclOf([{ action: 'deny', cidr: '192.0.2.7' }, { action: 'deny', cidr: '2001:db8::7' }]);
    expect([bare.match('192.0.2.7'), bare.match('192.0.2.8'), bare.match('2001:db8::7'), bare.match('2001:db8::6')]).toEqual(['deny', undefined, 'deny', undefined]);
  });

  it('ignores IPv6 host bits, and reads entries with brackets, a zone or spaces', () => {
    const acl = aclOf([{ action: 'allow', cidr: '2001:db8::1/32' }, { action: 'allow', cidr: ' [::1] ' }, { action: 'allow', cidr: 'fe80::1%eth0/64' }]);
    expect(acl.match('2001:db8:ffff::1')).toBe('allow');
    expect(acl.match('::1')).toBe('allow');
    expect(acl.match('fe80::abcd')).toBe('allow');
    expect(acl.match('fe80:0:0:1::abcd')).toBeUndefined();
  });

  it('first match wins across alternating allow and deny runs', () => {
    const acl = aclOf([
      { action: 'allow', cidr: '10.0.0.1' }, { action: 'allow', cidr: '2001:db8::1' },
      { action: 'deny', cidr: '10.0.0.0/24' }, { action: 'deny', cidr: '2001:db8::/64' },
      { action: 'allow', cidr: '10.0.0.0/8' }, { action: 'allow', cidr: '::/0' },
    ]);
    expect(['10.0.0.1', '10.0.0.2', '10.0.1.1', '2001:db8::1', '2001:db8::2', '2001:db9::1', '::ffff:10.0.0.1', '::ffff:10.0.0.2', '11.0.0.1']
      .map((ip) => acl.match(ip))).toEqual(['allow', 'deny', 'allow', 'allow', 'deny', 'allow', 'allow', 'deny', undefined]);
  });

  it('refuses a malformed bracket, an empty prefix, a negative prefix and an address with a port', () => {
    for (const cidr of ['[::1', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.1:5060', '::ffff:1.2.3.4/129', '', ' ']) {
      const acl = createAcl([{ action: 'allow', cidr }]);
      expect(acl.ok === false && acl.error.code, cidr).toBe('PB_ERR_AUTH_BAD_CIDR');
    }
  });
});

describe('remembered verdicts', () => {
  it('answer as the entries do for more sources than are kept, the same source asked again, and a spelling of the same address', () => {
    const acl = aclOf([{ action: 'deny', cidr: '10.0.0.0/16' }, { action: 'allow', cidr: '10.0.0.0/8' }]);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5000; i++) {
        const ip = `10.${i % 3}.${(i >> 8) & 255}.${i & 255}`;
        expect(acl.match(ip)).toBe(i % 3 === 0 ? 'deny' : 'allow');
      }
    }
    expect(acl.match('11.0.0.1')).toBeUndefined();
    expect(acl.match('11.0.0.1')).toBeUndefined();
    expect(acl.match(' 10.0.0.1 ')).toBe('deny');
    expect(acl.match('::ffff:10.1.0.1')).toBe('allow');
    expect(acl.match('not an address')).toBeUndefined();
  });
});
