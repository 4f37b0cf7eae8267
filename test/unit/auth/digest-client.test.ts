import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DigestSession,
  createAuthorization,
  parseChallenge,
  selectChallenges,
  type Challenge,
} from '../../../runtime/auth/digest-client.js';
import { parseAuthParams } from '../../../runtime/auth/auth-params.js';

function challengeOf(value: string): Challenge {
  const parsed = parseChallenge(value);
  if (!parsed.ok) throw parsed.error;
  return parsed.value;
}

function paramsOf(headerValue: string): ReadonlyMap<string, string> {
  const parsed = parseAuthParams(headerValue);
  if (!parsed.ok) throw parsed.error;
  return parsed.value.params;
}

describe('RFC vectors', () => {
  it('RFC 2617 §3.5: MD5, qop=auth (Mufasa / "Circle Of Life")', () => {
    const challenge = challengeOf(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", ' +
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    const value = createAuthorization({
      challenge,
      method: 'GET',
      uri: '/dir/index.html',
      username: 'Mufasa',
      password: 'Circle Of Life',
      cnonce: '0a4f113b',
      nc: 1,
    });
    const params = paramsOf(value);
    expect(params.get('response')).toBe('6629fae49393a05397450978507c4ef1');
    expect(params.get('qop')).toBe('auth');
    expect(params.get('nc')).toBe('00000001');
    expect(params.get('cnonce')).toBe('0a4f113b');
    expect(params.get('opaque')).toBe('5ccc069c403ebaf9f0171e9517f40e41');
    expect(value).toMatch(/^Digest username="Mufasa", realm="testrealm@host\.com", /);
    expect(value).toContain(', qop=auth, nc=00000001');
  });

  describe('RFC 7616 §3.9.1 (password "Circle of Life", lower-case o per erratum 4495)', () => {
    const base =
      'realm="http-auth@example.org", qop="auth, auth-int", ' +
      'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
      'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
    const answer = (algorithm: string): string =>
      createAuthorization({
        challenge: challengeOf(`Digest ${base}, algorithm=${algorithm}`),
        method: 'GET',
        uri: '/dir/index.html',
        username: 'Mufasa',
        password: 'Circle of Life',
        cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
        nc: 1,
      });

    it('SHA-256 response 753927fa…b6c1', () => {
      const params = paramsOf(answer('SHA-256'));
      expect(params.get('response')).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
      expect(params.get('algorithm')).toBe('SHA-256');
    });

    it('MD5 response 8ca523f5…dbec', () => {
      expect(paramsOf(answer('MD5')).get('response')).toBe('8ca523f5e9506fed4657c9700eebdbec');
    });
  });

  it('RFC 2069 form (no qop): response without nc/cnonce', () => {
    const challenge = challengeOf(
      'Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    const value = createAuthorization({
      challenge,
      method: 'GET',
      uri: '/dir/index.html',
      username: 'Mufasa',
      password: 'CircleOfLife',
    });
    const params = paramsOf(value);
    expect(params.get('response')).toBe('1949323746fe6a43ef61f9606e7febea');
    expect(params.has('qop')).toBe(false);
    expect(params.has('nc')).toBe(false);
    expect(params.has('cnonce')).toBe(false);
  });
});

describe('parseChallenge', () => {
  it('is case-insensitive, keeps unknown params, handles escapes and commas in quotes', () => {
    const challenge = challengeOf(
      'DIGEST REALM="a \\"quoted\\", realm", Nonce=abc/def+=, ALGORITHM=sha-256-SESS, ' +
        'QoP="auth-int , auth, token", x-vendor="v,1", stale=TRUE, domain="sip:a sip:b"',
    );
    expect(challenge.realm).toBe('a "quoted", realm');
    expect(challenge.nonce).toBe('abc/def+=');
    expect(challenge.algorithm).toBe('SHA-256-sess');
    expect(challenge.qop).toEqual(['auth-int', 'auth']);
    expect(challenge.stale).toBe(true);
    expect(challenge.params.get('x-vendor')).toBe('v,1');
    expect(challenge.params.get('domain')).toBe('sip:a sip:b');
  });

  it('defaults to MD5, no qop, not stale, and accepts an empty opaque', () => {
    const challenge = challengeOf('Digest realm="r", nonce="n", opaque=""');
    expect(challenge).toMatchObject({ algorithm: 'MD5', qop: [], stale: false, opaque: '' });
  });

  it('stops at a second scheme in the same value', () => {
    expect(challengeOf('Digest realm="r", nonce="n", Basic realm="x"').realm).toBe('r');
  });

  it.each([
    ['', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest realm="r"', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest nonce="n"', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest realm="r, nonce="n"', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest realm="r", nonce="n", realm="s"', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest realm="r" nonce="n"', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest realm=, nonce="n"', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest realm="r\r\nX: y", nonce="n"', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest realm="r\\', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest =x', 'PB_ERR_AUTH_MALFORMED'],
    [`Digest realm="${'x'.repeat(9000)}", nonce="n"`, 'PB_ERR_AUTH_MALFORMED'],
    ['Basic realm="r"', 'PB_ERR_AUTH_UNSUPPORTED_SCHEME'],
    ['Digest realm="r", nonce="n", algorithm=SHA-512-256', 'PB_ERR_AUTH_UNSUPPORTED_ALGORITHM'],
    ['Digest realm="r", nonce="n", qop="auth-conf"', 'PB_ERR_AUTH_UNSUPPORTED_QOP'],
    ['Digest realm="r", nonce="n", algorithm=MD5-sess', 'PB_ERR_AUTH_UNSUPPORTED_QOP'],
  ])('refuses %j with %s', (value, code) => {
    const parsed = parseChallenge(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.code).toBe(code);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const parsed = parseChallenge(`Digest ${text}`);
        expect(typeof parsed.ok).toBe('boolean');
        parseChallenge(text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('createAuthorization', () => {
  it('uses auth-int with the body hash when it is the only qop offered', () => {
    const challenge = challengeOf('Digest realm="r", nonce="n", qop="auth-int"');
    const options = { challenge, method: 'INVITE', uri: 'sip:b@x', username: 'u', password: 'p', cnonce: 'c' };
    const withBody = paramsOf(createAuthorization({ ...options, body: 'v=0\r\n' }));
    const empty = paramsOf(createAuthorization(options));
    expect(withBody.get('qop')).toBe('auth-int');
    expect(withBody.get('response')).not.toBe(empty.get('response'));
  });

  it('escapes quotes in the username and refuses control characters', () => {
    const challenge = challengeOf('Digest realm="r", nonce="n", qop=auth');
    const value = createAuthorization({ challenge, method: 'REGISTER', uri: 'sip:x', username: 'a"b\\c', password: 'p' });
    expect(paramsOf(value).get('username')).toBe('a"b\\c');
    expect(() =>
      createAuthorization({ challenge, method: 'REGISTER', uri: 'sip:x', username: 'a\r\nb', password: 'p' }),
    ).toThrow(expect.objectContaining({ code: 'PB_ERR_AUTH_MALFORMED' }));
  });

  it('makes a random 128-bit cnonce when none is given', () => {
    const challenge = challengeOf('Digest realm="r", nonce="n", qop=auth');
    const first = paramsOf(createAuthorization({ challenge, method: 'BYE', uri: 'sip:x', username: 'u', password: 'p' }));
    const second = paramsOf(createAuthorization({ challenge, method: 'BYE', uri: 'sip:x', username: 'u', password: 'p' }));
    expect(first.get('cnonce')).toMatch(/^[0-9a-f]{32}$/);
    expect(first.get('cnonce')).not.toBe(second.get('cnonce'));
  });
});

describe('selectChallenges', () => {
  it('prefers SHA-256 over MD5 for one realm, the topmost among equals, and skips unusable values', () => {
    const selected = selectChallenges([
      'Digest realm="r", nonce="m1", algorithm=MD5, qop="auth"',
      'Basic realm="r"',
      'Digest realm="r", nonce="s1", algorithm=SHA-256, qop="auth"',
      'Digest realm="r", nonce="s2", algorithm=SHA-256-sess, qop="auth"',
      'Digest realm="r", nonce="x", algorithm=SHA-512-256, qop="auth"',
      'Digest realm="other", nonce="o1"',
    ]);
    expect(selected.ok && selected.value.map((c) => [c.realm, c.nonce])).toEqual([
      ['r', 's1'],
      ['other', 'o1'],
    ]);
  });

  it('reports NO_CHALLENGE with the first error as cause', () => {
    const selected = selectChallenges(['Basic realm="r"']);
    expect(selected.ok).toBe(false);
    if (!selected.ok) {
      expect(selected.error.code).toBe('PB_ERR_AUTH_NO_CHALLENGE');
      expect(selected.error.cause).toMatchObject({ code: 'PB_ERR_AUTH_UNSUPPORTED_SCHEME' });
    }
    expect(selectChallenges([]).ok).toBe(false);
  });
});

describe('DigestSession', () => {
  let counter = 0;
  const session = (): DigestSession =>
    new DigestSession({ credentials: { username: 'alice', password: 'secret' }, createCnonce: () => `c${++counter}` });
  const invite = { method: 'INVITE', uri: 'sip:bob@example.com' };

  it('answers a 401, then counts nc per nonce for later requests', () => {
    const digest = session();
    const answered = digest.answer(
      { status: 401, challenges: ['Digest realm="r", nonce="n1", qop="auth", algorithm=MD5'] },
      invite,
    );
    expect(answered.ok).toBe(true);
    if (!answered.ok) return;
    expect(answered.value).toHaveLength(1);
    const [name, value] = answered.value[0] ?? ['', ''];
    expect(name).toBe('Authorization');
    expect(paramsOf(value).get('nc')).toBe('00000001');
    const bye = digest.authorize({ method: 'BYE', uri: 'sip:bob@10.0.0.2' });
    expect(bye).toHaveLength(1);
    expect(paramsOf(bye[0]?.[1] ?? '').get('nc')).toBe('00000002');
    expect(paramsOf(bye[0]?.[1] ?? '').get('uri')).toBe('sip:bob@10.0.0.2');
    expect(digest.realms).toEqual(['r']);
  });

  it('refuses the same challenge twice, but answers stale=true and fresh nonces (nc back to 1)', () => {
    const digest = session();
    const challenge = 'Digest realm="r", nonce="n1", qop="auth"';
    expect(digest.answer({ status: 401, challenges: [challenge] }, invite).ok).toBe(true);
    const again = digest.answer({ status: 401, challenges: [challenge] }, invite);
    expect(again.ok === false && again.error.code).toBe('PB_ERR_AUTH_REJECTED');
    const stale = digest.answer({ status: 401, challenges: [`${challenge}, stale=true`] }, invite);
    expect(stale.ok).toBe(true);
    const fresh = digest.answer({ status: 401, challenges: ['Digest realm="r", nonce="n2", qop="auth"'] }, invite);
    expect(fresh.ok && paramsOf(fresh.value[0]?.[1] ?? '').get('nc')).toBe('00000001');
  });

  it('keeps a proxy 407 answer when the UAS then sends a 401', () => {
    const digest = session();
    const proxy = digest.answer({ status: 407, challenges: ['Digest realm="proxy", nonce="p1", qop=auth'] }, invite);
    expect(proxy.ok && proxy.value.map(([name]) => name)).toEqual(['Proxy-Authorization']);
    const uas = digest.answer({ status: 401, challenges: ['Digest realm="uas", nonce="u1", qop=auth'] }, invite);
    expect(uas.ok && uas.value.map(([name]) => name)).toEqual(['Proxy-Authorization', 'Authorization']);
    expect(uas.ok && paramsOf(uas.value[0]?.[1] ?? '').get('nc')).toBe('00000002');
  });

  it('answers a SHA-256 + MD5 offer with SHA-256', () => {
    const digest = session();
    const answered = digest.answer(
      {
        status: 401,
        challenges: ['Digest realm="r", nonce="m", algorithm=MD5, qop=auth', 'Digest realm="r", nonce="s", algorithm=SHA-256, qop=auth'],
      },
      invite,
    );
    const params = paramsOf(answered.ok ? (answered.value[0]?.[1] ?? '') : '');
    expect(params.get('algorithm')).toBe('SHA-256');
    expect(params.get('response')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports missing credentials per realm and malformed challenges as typed errors', () => {
    const digest = new DigestSession({ credentials: (realm) => (realm === 'r' ? { username: 'u', password: 'p' } : undefined) });
    const other = digest.answer({ status: 401, challenges: ['Digest realm="elsewhere", nonce="n"'] }, invite);
    expect(other.ok === false && other.error.code).toBe('PB_ERR_AUTH_NO_CREDENTIALS');
    const broken = digest.answer({ status: 401, challenges: ['Digest realm="r'] }, invite);
    expect(broken.ok === false && broken.error.code).toBe('PB_ERR_AUTH_NO_CHALLENGE');
    expect(digest.authorize(invite)).toEqual([]);
  });

  it('forgets realms', () => {
    const digest = session();
    digest.answer({ status: 401, challenges: ['Digest realm="a", nonce="1"', 'Digest realm="b", nonce="2"'] }, invite);
    digest.forget('a');
    expect(digest.realms).toEqual(['b']);
    digest.forget();
    expect(digest.realms).toEqual([]);
  });
});
