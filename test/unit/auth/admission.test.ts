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
