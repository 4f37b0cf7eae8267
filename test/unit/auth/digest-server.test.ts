import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DigestSession, createAuthorization, parseChallenge } from '../../../runtime/auth/digest-client.js';
import { DigestVerifier, type CredentialLookup } from '../../../runtime/auth/digest-server.js';
import { DIGEST_ALGORITHMS, computeHa1 } from '../../../runtime/auth/digest-hash.js';
import { NonceCountTracker } from '../../../runtime/auth/nonce.js';

const REALM = 'patchbay.test';
const URI = 'sip:bob@patchbay.test';
const users: Record<string, string> = { alice: 'wonderland' };
const lookup: CredentialLookup = (username, realm) => (realm === REALM ? users[username] : undefined);

function clock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

function answer(
  challengeValue: string,
  options: { password?: string; nc?: number; method?: string; uri?: string; username?: string } = {},
): string {
  const parsed = parseChallenge(challengeValue);
  if (!parsed.ok) throw parsed.error;
  return createAuthorization({
    challenge: parsed.value,
    method: options.method ?? 'INVITE',
    uri: options.uri ?? URI,
    username: options.username ?? 'alice',
    password: options.password ?? 'wonderland',
    nc: options.nc ?? 1,
  });
}

function codeOf(result: { ok: boolean; error?: { code: string } }): string | undefined {
  return result.ok ? undefined : result.error?.code;
}

describe('DigestVerifier round trips', () => {
  it.each(DIGEST_ALGORITHMS)('%s: challenge → answer → verified', (algorithm) => {
    const verifier = new DigestVerifier({ secret: 'k' });
    const challenge = verifier.createChallenge({ realm: REALM, algorithm });
    expect(challenge).toContain(`algorithm=${algorithm}`);
    expect(challenge).toContain('qop="auth"');
    const result = verifier.verifyAuthorization({ headerValue: answer(challenge), method: 'INVITE', uri: URI, lookup, realm: REALM });
    expect(result).toEqual({ ok: true, value: { username: 'alice', realm: REALM, algorithm } });
  });

  it.each(DIGEST_ALGORITHMS)('%s: a DigestSession authorises the INVITE and then in-dialog requests', (algorithm) => {
    const verifier = new DigestVerifier();
    const session = new DigestSession({ credentials: { username: 'alice', password: 'wonderland' } });
    const challenges = [verifier.createChallenge({ realm: REALM, algorithm })];
    const invite = session.answer({ status: 401, challenges }, { method: 'INVITE', uri: URI });
    expect(invite.ok).toBe(true);
    const requests = [
      { method: 'INVITE', uri: URI, headers: invite.ok ? invite.value : [] },
      { method: 'BYE', uri: 'sip:bob@192.0.2.1:5060', headers: session.authorize({ method: 'BYE', uri: 'sip:bob@192.0.2.1:5060' }) },
      { method: 'INFO', uri: 'sip:bob@192.0.2.1:5060', headers: session.authorize({ method: 'INFO', uri: 'sip:bob@192.0.2.1:5060' }) },
    ];
    for (const { method, uri, headers } of requests) {
      const headerValue = headers[0]?.[1] ?? '';
      expect(verifier.verifyAuthorization({ headerValue, method, uri, lookup, realm: REALM }).ok).toBe(true);
    }
  });

  it('accepts a stored HA1 instead of a password', () => {
    const verifier = new DigestVerifier();
    const challenge = verifier.createChallenge({ realm: REALM, algorithm: 'SHA-256' });
    const ha1Lookup: CredentialLookup = (username, realm, algorithm) => ({
      ha1: computeHa1(algorithm, username, realm, 'wonderland').toUpperCase(),
    });
    const result = verifier.verifyAuthorization({ headerValue: answer(challenge), method: 'INVITE', uri: URI, lookup: ha1Lookup });
    expect(result.ok).toBe(true);
  });

  it('accepts rising nc on one nonce, and out-of-order counts within the window once each', () => {
    const verifier = new DigestVerifier();
    const challenge = verifier.createChallenge({ realm: REALM, algorithm: 'MD5' });
    const verify = (nc: number): string | undefined =>
      codeOf(verifier.verifyAuthorization({ headerValue: answer(challenge, { nc }), method: 'INVITE', uri: URI, lookup }));
    expect([1, 2, 5, 4, 3].map(verify)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect([1, 2, 3, 4, 5].map(verify)).toEqual(Array(5).fill('PB_ERR_AUTH_REPLAY'));
    expect(verify(100)).toBeUndefined();
    expect(verify(60)).toBe('PB_ERR_AUTH_REPLAY');
    expect(verify(90)).toBeUndefined();
  });
});

describe('DigestVerifier refusals', () => {
  const time = clock();
  const verifier = new DigestVerifier({ secret: 'server-secret', nonceLifetimeMs: 60_000, now: time.now });
  const verify = (headerValue: string, method = 'INVITE', uri = URI): string | undefined =>
    codeOf(verifier.verifyAuthorization({ headerValue, method, uri, lookup, realm: REALM }));

  it('wrong password and unknown user', () => {
    const challenge = verifier.createChallenge({ realm: REALM, algorithm: 'SHA-256' });
    expect(verify(answer(challenge, { password: 'guess' }))).toBe('PB_ERR_AUTH_BAD_RESPONSE');
    expect(verify(answer(challenge, { username: 'mallory' }))).toBe('PB_ERR_AUTH_UNKNOWN_USER');
  });

  it('replayed nc', () => {
    const headerValue = answer(verifier.createChallenge({ realm: REALM, algorithm: 'MD5' }));
    expect(verify(headerValue)).toBeUndefined();
    expect(verify(headerValue)).toBe('PB_ERR_AUTH_REPLAY');
  });

  it('a failed attempt does not burn the count', () => {
    const challenge = verifier.createChallenge({ realm: REALM, algorithm: 'MD5' });
    expect(verify(answer(challenge, { password: 'guess', nc: 7 }))).toBe('PB_ERR_AUTH_BAD_RESPONSE');
    expect(verify(answer(challenge, { nc: 7 }))).toBeUndefined();
  });

  it('stale nonce: only with the right password, and a new challenge says stale=true', () => {
    const challenge = verifier.createChallenge({ realm: REALM, algorithm: 'SHA-256' });
    time.advance(60_001);
    expect(verify(answer(challenge))).toBe('PB_ERR_AUTH_STALE_NONCE');
    expect(verify(answer(challenge, { password: 'guess' }))).toBe('PB_ERR_AUTH_BAD_RESPONSE');
    const again = verifier.createChallenge({ realm: REALM, algorithm: 'SHA-256', stale: true });
    expect(parseChallenge(again).ok && again.includes('stale=true')).toBe(true);
    expect(verify(answer(again))).toBeUndefined();
  });

  it('nonces from another secret, realm, algorithm, or the future', () => {
    const foreign = new DigestVerifier({ secret: 'other', now: time.now });
    expect(verify(answer(foreign.createChallenge({ realm: REALM, algorithm: 'MD5' })))).toBe('PB_ERR_AUTH_BAD_NONCE');
    const sha = verifier.createChallenge({ realm: REALM, algorithm: 'SHA-256' });
    expect(verify(answer(sha.replace('algorithm=SHA-256', 'algorithm=MD5')))).toBe('PB_ERR_AUTH_BAD_NONCE');
    const elsewhere = answer(verifier.createChallenge({ realm: 'elsewhere', algorithm: 'MD5' }));
    expect(verify(elsewhere.replace('realm="elsewhere"', `realm="${REALM}"`))).toBe('PB_ERR_AUTH_BAD_NONCE');
    const future = new DigestVerifier({ secret: 'server-secret', now: () => time.now() + 3_600_000 });
    expect(verify(answer(future.createChallenge({ realm: REALM, algorithm: 'MD5' })))).toBe('PB_ERR_AUTH_BAD_NONCE');
    expect(verify(answer(sha.replace(/nonce="[^"]+"/, 'nonce="not-a-nonce"')))).toBe('PB_ERR_AUTH_BAD_NONCE');
  });

  it('realm, uri and method bound to the request', () => {
    const challenge = verifier.createChallenge({ realm: REALM, algorithm: 'MD5' });
    expect(verify(answer(challenge).replace(`realm="${REALM}"`, 'realm="other"'))).toBe('PB_ERR_AUTH_REALM_MISMATCH');
    expect(verify(answer(challenge), 'INVITE', 'sip:carol@patchbay.test')).toBe('PB_ERR_AUTH_URI_MISMATCH');
    expect(verify(answer(challenge, { method: 'BYE' }))).toBe('PB_ERR_AUTH_BAD_RESPONSE');
  });

  it.each([
    ['', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest', 'PB_ERR_AUTH_MALFORMED'],
    ['Basic YWxpY2U6d29uZGVybGFuZA==', 'PB_ERR_AUTH_UNSUPPORTED_SCHEME'],
    ['Basic realm="x"', 'PB_ERR_AUTH_UNSUPPORTED_SCHEME'],
    ['Digest username="alice", realm="patchbay.test", nonce="n", uri="sip:x"', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest username="alice", realm="patchbay.test", nonce="n", uri="sip:x", response="00", qop=auth', 'PB_ERR_AUTH_MALFORMED'],
    ['Digest username="a", realm="r", nonce="n", uri="u", response="0", algorithm=AKAv1-MD5', 'PB_ERR_AUTH_UNSUPPORTED_ALGORITHM'],
    ['Digest username="a", realm="r", nonce="n", uri="u", response="0"', 'PB_ERR_AUTH_UNSUPPORTED_QOP'],
    ['Digest username="a", realm="r", nonce="n", uri="u", response="0", qop=auth-int', 'PB_ERR_AUTH_UNSUPPORTED_QOP'],
    [
      `Digest username="a", realm="r", nonce="n", uri="u", response="${'0'.repeat(32)}", qop=auth, nc=00000000, cnonce="c"`,
      'PB_ERR_AUTH_MALFORMED',
    ],
    [`Digest username="a", realm="r", nonce="n", uri="u", response="${'0'.repeat(32)}", qop=auth, nc=1, cnonce="c"`, 'PB_ERR_AUTH_MALFORMED'],
    [`Digest username="a", realm="r", nonce="n", uri="u", response="${'z'.repeat(32)}", qop=auth, nc=00000001, cnonce="c"`, 'PB_ERR_AUTH_MALFORMED'],
  ])('malformed %j → %s', (headerValue, code) => {
    expect(codeOf(verifier.verifyAuthorization({ headerValue, method: 'INVITE', uri: 'u', lookup }))).toBe(code);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        for (const headerValue of [text, `Digest ${text}`]) {
          expect(verifier.verifyAuthorization({ headerValue, method: 'INVITE', uri: URI, lookup }).ok).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('nonce-count memory is bounded', () => {
  it('evicted nonces come back stale, never replayable', () => {
    const time = clock();
    const verifier = new DigestVerifier({ maxTrackedNonces: 3, now: time.now });
    const used: string[] = [];
    for (let i = 0; i < 10; i++) {
      time.advance(1);
      const headerValue = answer(verifier.createChallenge({ realm: REALM, algorithm: 'MD5' }));
      expect(verifier.verifyAuthorization({ headerValue, method: 'INVITE', uri: URI, lookup }).ok).toBe(true);
      used.push(headerValue);
      expect(verifier.trackedNonces).toBeLessThanOrEqual(3);
    }
    const replayOld = verifier.verifyAuthorization({ headerValue: used[0] ?? '', method: 'INVITE', uri: URI, lookup });
    expect(codeOf(replayOld)).toBe('PB_ERR_AUTH_STALE_NONCE');
    const replayNew = verifier.verifyAuthorization({ headerValue: used[9] ?? '', method: 'INVITE', uri: URI, lookup });
    expect(codeOf(replayNew)).toBe('PB_ERR_AUTH_REPLAY');
  });

  it('tracker drops expired entries first and handles window edges', () => {
    const tracker = new NonceCountTracker(10);
    tracker.record('a', 1, 1, 0);
    tracker.record('b', 50, 1, 10);
    expect(tracker.size).toBe(1);
    expect(tracker.check('a', 1, 1)).toBe('fresh');
    tracker.record('b', 50, 33, 10);
    expect(tracker.check('b', 50, 1)).toBe('replay');
    expect(tracker.check('b', 50, 2)).toBe('fresh');
    tracker.record('b', 50, 2, 10);
    tracker.record('b', 50, 80, 10);
    expect(tracker.check('b', 50, 48)).toBe('fresh');
    expect(tracker.check('b', 50, 47)).toBe('replay');
    expect(tracker.check('b', 50, 33)).toBe('replay');
  });
});
