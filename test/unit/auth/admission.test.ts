import { describe, expect, it } from 'vitest';
import {
  createAdmissionPolicy,
  type AdmissionConfig,
  type AdmissionDecision,
  type AdmissionPolicy,
} from '../../../runtime/auth/admission.js';
import { DigestSession } from '../../../runtime/auth/digest-client.js';
import { parseChallenge } from '../../../runtime/auth/challenge.js';

const REALM = 'gw.test';
const URI = 'sip:+15551234567@gw.test';
const CALLER = '203.0.113.7';

function policyOf(config: Partial<AdmissionConfig> = {}): AdmissionPolicy {
  const policy = createAdmissionPolicy({ realm: REALM, ...config });
  if (!policy.ok) throw policy.error;
  return policy.value;
}

function challengeHeaders(decision: AdmissionDecision): string[] {
  if (decision.kind !== 'challenge') throw new Error(`expected a challenge, got ${JSON.stringify(decision)}`);
  expect(decision.status).toBe(401);
  expect(decision.header).toEqual(decision.headers[0]);
  return decision.headers.map(([name, value]) => {
    expect(name).toBe('WWW-Authenticate');
    return value;
  });
}

/** Play the UAC: answer the 401 with a DigestSession and present the result. */
function answer(decision: AdmissionDecision, password = 'pw-alice'): string {
  const session = new DigestSession({ credentials: { username: 'alice', password } });
  const answered = session.answer({ status: 401, challenges: challengeHeaders(decision) }, { method: 'INVITE', uri: URI });
  if (!answered.ok) throw answered.error;
  return answered.value[0]?.[1] ?? '';
}

describe('admission by address', () => {
  it('the embedded default admits loopback only', () => {
    const policy = policyOf();
    expect(policy.decide({ sourceIp: '127.0.0.1', method: 'INVITE', uri: URI })).toEqual({ kind: 'admit' });
    expect(policy.decide({ sourceIp: '::1', method: 'INVITE', uri: URI })).toEqual({ kind: 'admit' });
    expect(policy.decide({ sourceIp: '::ffff:127.0.0.1', method: 'INVITE', uri: URI })).toEqual({ kind: 'admit' });
    expect(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI })).toMatchObject({ kind: 'reject', status: 403 });
  });

  it('an allow entry admits without credentials even when credentials are configured', () => {
    const policy = policyOf({
      acls: [{ action: 'allow', cidr: '203.0.113.0/24' }],
      credentials: [{ username: 'alice', password: 'pw-alice' }],
    });
    expect(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI })).toEqual({ kind: 'admit' });
  });

  it('a deny entry refuses even with credentials configured', () => {
    const policy = policyOf({
      acls: [{ action: 'deny', cidr: CALLER }],
      credentials: [{ username: 'alice', password: 'pw-alice' }],
    });
    expect(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI })).toEqual({
      kind: 'reject',
      status: 403,
      reason: 'source address denied',
    });
  });

  it('reports bad configuration as typed errors', () => {
    const badCidr = createAdmissionPolicy({ realm: REALM, acls: [{ action: 'allow', cidr: '300.0.0.0/8' }] });
    expect(badCidr.ok === false && badCidr.error.code).toBe('PB_ERR_AUTH_BAD_CIDR');
    const badUser = createAdmissionPolicy({ realm: REALM, credentials: [{ username: '', password: 'x' }] });
    expect(badUser.ok === false && badUser.error.code).toBe('PB_ERR_AUTH_MALFORMED');
  });
});

describe('admission by credentials', () => {
  const credentials = [
    { username: 'alice', password: 'pw-alice' },
    { username: 'bob', password: 'pw-bob', realm: 'other.test' },
  ];

  it('challenges with SHA-256 then MD5, then admits the right answer with its username', () => {
    const policy = policyOf({ credentials });
    const challenge = policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI });
    const offered = challengeHeaders(challenge).map((value) => {
      const parsed = parseChallenge(value);
      return parsed.ok ? [parsed.value.realm, parsed.value.algorithm, parsed.value.stale] : [];
    });
    expect(offered).toEqual([
      [REALM, 'SHA-256', false],
      [REALM, 'MD5', false],
    ]);
    const authorization = answer(challenge);
    expect(authorization).toContain('algorithm=SHA-256');
    expect(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI, authorization })).toEqual({
      kind: 'admit',
      username: 'alice',
    });
  });

  it('honours the configured algorithm list (MD5-only UAs)', () => {
    const policy = policyOf({ credentials, algorithms: ['MD5'] });
    const challenge = policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI });
    expect(challengeHeaders(challenge)).toHaveLength(1);
    const authorization = answer(challenge);
    expect(authorization).toContain('algorithm=MD5');
    expect(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI, authorization })).toMatchObject({ kind: 'admit' });
  });

  it('403 for a wrong password or an unknown user, with the same reason', () => {
    const policy = policyOf({ credentials });
    const wrong = answer(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI }), 'guess');
    expect(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI, authorization: wrong })).toEqual({
      kind: 'reject',
      status: 403,
      reason: 'bad credentials',
    });
    const unknown = answer(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI })).replace('"alice"', '"mallory"');
    expect(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI, authorization: unknown })).toMatchObject({
      reason: 'bad credentials',
    });
  });

  it('re-challenges with stale=true for an expired nonce and for a replayed nc', () => {
    let now = 1_000_000;
    const policy = policyOf({ credentials, verifier: { nonceLifetimeMs: 1_000, now: () => now } });
    const authorization = answer(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI }));
    expect(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI, authorization })).toMatchObject({ kind: 'admit' });
    const replay = policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI, authorization });
    expect(challengeHeaders(replay).every((value) => value.includes('stale=true'))).toBe(true);
    const fresh = answer(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI }));
    now += 1_001;
    const stale = policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI, authorization: fresh });
    expect(challengeHeaders(stale)[0]).toContain('stale=true');
  });

  it('challenges when the credentials are for another realm or our nonce is unknown', () => {
    const policy = policyOf({ credentials });
    const foreign = answer(policyOf({ credentials, realm: 'other.test' }).decide({ sourceIp: CALLER, method: 'INVITE', uri: URI }));
    expect(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI, authorization: foreign }).kind).toBe('challenge');
    const restarted = policyOf({ credentials });
    const old = answer(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI }));
    const decision = restarted.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI, authorization: old });
    expect(challengeHeaders(decision)[0]).not.toContain('stale=true');
  });

  it('picks our realm among several Authorization values and survives garbage', () => {
    const policy = policyOf({ credentials });
    const ours = answer(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI }));
    const decision = policy.decide({
      sourceIp: CALLER,
      method: 'INVITE',
      uri: URI,
      authorization: ['garbage "', 'Digest realm="elsewhere", username="x"', ours],
    });
    expect(decision).toEqual({ kind: 'admit', username: 'alice' });
    for (const authorization of ['', 'Digest', `Digest realm="${REALM}"`, `Digest realm="${REALM}", username="alice", response=1`]) {
      const verdict = policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI, authorization });
      expect(['challenge', 'reject']).toContain(verdict.kind);
    }
  });

  it('403 when the digest uri is not the Request-URI', () => {
    const policy = policyOf({ credentials });
    const authorization = answer(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI }));
    expect(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: 'sip:other@gw.test', authorization })).toMatchObject({
      kind: 'reject',
      status: 403,
    });
  });

  it('403 without ACL match and without configured credentials', () => {
    const policy = policyOf({ acls: [] });
    expect(policy.decide({ sourceIp: '127.0.0.1', method: 'INVITE', uri: URI })).toEqual({
      kind: 'reject',
      status: 403,
      reason: 'source address not allowed',
    });
    expect(policy.decide({ sourceIp: 'bogus', method: 'INVITE', uri: URI }).kind).toBe('reject');
  });
});

describe('lockout after failed attempts', () => {
  const credentials = [
    { username: 'alice', password: 'pw-alice' },
    { username: 'carol', password: 'pw-carol' },
  ];
  /** The Authorization answering a fresh challenge of `policy` as `username` with `password`. */
  function credentialsFor(policy: AdmissionPolicy, sourceIp: string, username: string, password: string): string {
    const challenge = policy.decide({ sourceIp, method: 'INVITE', uri: URI });
    const session = new DigestSession({ credentials: { username, password } });
    const answered = session.answer({ status: 401, challenges: challengeHeaders(challenge) }, { method: 'INVITE', uri: URI });
    if (!answered.ok) throw answered.error;
    return answered.value[0]![1];
  }
  /** Answer a fresh challenge and present the answer. */
  function attempt(policy: AdmissionPolicy, sourceIp: string, username: string, password: string): AdmissionDecision {
    const authorization = credentialsFor(policy, sourceIp, username, password);
    return policy.decide({ sourceIp, method: 'INVITE', uri: URI, authorization });
  }

  it('wrong passwords lock out the source: the right password is refused with 503 Retry-After until the lock expires, then works', () => {
    let now = 5_000_000;
    const events: unknown[] = [];
    const policy = policyOf({
      credentials, verifier: { now: () => now },
      lockout: { failures: 5, windowMs: 60_000, lockMs: 30_000 }, onLockout: (event) => events.push(event),
    });
    // the right answer to a challenge issued before the lock
    const right = credentialsFor(policy, CALLER, 'alice', 'pw-alice');
    // different users' guesses from one source: the source scope counts them all
    for (let i = 0; i < 4; i++) expect(attempt(policy, CALLER, i % 2 ? 'alice' : 'mallory', `guess${i}`)).toMatchObject({ kind: 'reject', status: 403 });
    expect(attempt(policy, CALLER, 'carol', 'guess')).toMatchObject({ kind: 'reject', status: 403 });
    expect(events).toEqual([{ scope: 'source', key: CALLER, failures: 5, lockSeconds: 30 }]);
    now += 1000;
    const locked = policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI, authorization: right });
    expect(locked).toEqual({ kind: 'locked', status: 503, scope: 'source', reason: 'too many failed authentication attempts from this source', retryAfterSeconds: 29 });
    // no challenge either while locked: nothing to guess against
    expect(policy.decide({ sourceIp: CALLER, method: 'INVITE', uri: URI })).toMatchObject({ kind: 'locked', scope: 'source' });
    // another source is not affected
    expect(attempt(policy, '198.51.100.9', 'alice', 'pw-alice')).toEqual({ kind: 'admit', username: 'alice' });
    now += 29_000;
    expect(attempt(policy, CALLER, 'alice', 'pw-alice')).toEqual({ kind: 'admit', username: 'alice' });
    expect(policy.stats()).toEqual({ challenges: 8, failures: 5, lockouts: { source: 1, user: 0 }, locked: { source: 2, user: 0 } });
  });

  it('wrong passwords for one user from many sources lock out that user, the right password included, until the lock expires', () => {
    let now = 7_000_000;
    const events: unknown[] = [];
    const policy = policyOf({
      credentials, verifier: { now: () => now },
      lockout: { failures: 3, windowMs: 60_000, lockMs: 10_000 }, onLockout: (event) => events.push(event),
    });
    for (let i = 0; i < 3; i++) expect(attempt(policy, `203.0.113.${10 + i}`, 'alice', 'guess')).toMatchObject({ kind: 'reject' });
    expect(events).toEqual([{ scope: 'user', key: 'alice', failures: 3, lockSeconds: 10 }]);
    expect(attempt(policy, '198.51.100.1', 'alice', 'pw-alice')).toEqual({
      kind: 'locked', status: 503, scope: 'user', reason: 'too many failed authentication attempts for this user', retryAfterSeconds: 10,
    });
    expect(attempt(policy, '198.51.100.1', 'carol', 'pw-carol')).toEqual({ kind: 'admit', username: 'carol' });
    now += 10_000;
    expect(attempt(policy, '198.51.100.1', 'alice', 'pw-alice')).toEqual({ kind: 'admit', username: 'alice' });
    expect(policy.stats().lockouts).toEqual({ source: 0, user: 1 });
    expect(policy.stats().locked).toEqual({ source: 0, user: 1 });
  });

  it('failures older than the window are forgotten; 0 turns the lockout off', () => {
    let now = 9_000_000;
    const policy = policyOf({ credentials, verifier: { now: () => now }, lockout: { failures: 3, windowMs: 1000, lockMs: 10_000 } });
    for (let i = 0; i < 10; i++) {
      expect(attempt(policy, CALLER, 'alice', 'guess')).toMatchObject({ kind: 'reject', status: 403 });
      if (i % 2 === 1) now += 1000;
    }
    const off = policyOf({ credentials, lockout: { failures: 0 } });
    for (let i = 0; i < 20; i++) expect(attempt(off, CALLER, 'alice', 'guess')).toMatchObject({ kind: 'reject', status: 403 });
    expect(attempt(off, CALLER, 'alice', 'pw-alice')).toMatchObject({ kind: 'admit' });
  });

  it('the source table stays bounded whatever the number of guessing sources', () => {
    const now = 1_000_000;
    const policy = policyOf({ credentials, verifier: { now: () => now }, lockout: { failures: 2, windowMs: 60_000, lockMs: 60_000, maxSources: 50 } });
    for (let i = 0; i < 300; i++) attempt(policy, `10.0.${i >> 8}.${i & 255}`, 'mallory', 'guess');
    expect(policy.trackedSources).toBe(50);
  });
});
