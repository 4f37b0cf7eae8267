/**
 * Inbound admission (digest authentication, RFC 3261 §22): a request is
 * admitted when its source address is on an allow entry of the ACL;
 * otherwise, when credentials are configured, it is challenged with 401 and
 * its digest checked; anything else gets 403. A deny entry refuses outright.
 * Wrong credentials are counted per source and per user: too many in a
 * window lock that source or user out for a while (lockout.ts), during
 * which its requests get 503 with Retry-After, the right password included.
 */
import { DEFAULT_ACL_ENTRIES, createAcl, sourceKey, type Acl, type AclEntry } from './acl.js';
import { parseAuthParams } from './auth-params.js';
import type { DigestAlgorithm } from './digest-hash.js';
import { DigestVerifier, type DigestVerifierOptions, type StoredCredential } from './digest-server.js';
import { err, ok, AuthMalformedError, type AuthError, type Result } from './errors.js';
import { DEFAULT_LOCKOUT, FailureCounter, type LockoutOptions } from './lockout.js';

/** One configured user. */
export interface AdmissionCredential {
  username: string;
  password: string;
  /** Realm of this user; the policy's realm when omitted. */
  realm?: string;
}

/** The inbound policy's configuration. */
export interface AdmissionConfig {
  /** Realm challenged with. */
  realm: string;
  /** Ordered ACL; the embedded default (loopback only) when omitted, nothing by address when empty. */
  acls?: readonly AclEntry[];
  /** Users that may authenticate; none means address-only admission. */
  credentials?: readonly AdmissionCredential[];
  /** Algorithms offered, one WWW-Authenticate each, most preferred first (RFC 8760). */
  algorithms?: readonly DigestAlgorithm[];
  /** Nonce secret, lifetime, replay-memory bound and clock. */
  verifier?: DigestVerifierOptions;
  /** Lockout after failed attempts (`DEFAULT_LOCKOUT` when omitted; its clock defaults to the verifier's). */
  lockout?: Partial<LockoutOptions>;
  /** Told once when a source or user becomes locked (log it). */
  onLockout?: (event: LockoutEvent) => void;
}

/** A source or user that just became locked. */
export interface LockoutEvent {
  scope: 'source' | 'user';
  /** The source key (IPv4 address, IPv6 /64) or the user name. */
  key: string;
  failures: number;
  lockSeconds: number;
}

/** Counters of the admission policy, for metrics. */
export interface AdmissionStats {
  /** 401 challenges issued. */
  challenges: number;
  /** Requests refused for wrong credentials (unknown user, wrong digest). */
  failures: number;
  /** Locks started, by scope. */
  lockouts: { source: number; user: number };
  /** Requests refused because their source or user was locked, by scope. */
  locked: { source: number; user: number };
}

/** What admission looks at in a request. */
export interface AdmissionRequest {
  sourceIp: string;
  method: string;
  /** The Request-URI as received. */
  uri: string;
  /** Every Authorization (or Proxy-Authorization) value of the request. */
  authorization?: string | readonly string[];
}

/** A WWW-Authenticate header to add to the 401. */
export type ChallengeHeader = readonly ['WWW-Authenticate', string];

/** The verdict: let it in, challenge it, or refuse it. */
export type AdmissionDecision =
  | { kind: 'admit'; username?: string }
  | {
      kind: 'challenge';
      status: 401;
      /** The preferred challenge. */
      header: ChallengeHeader;
      /** Every challenge to send, preferred first (`header` is the first). */
      headers: readonly ChallengeHeader[];
    }
  | { kind: 'reject'; status: 403; reason: string }
  /** Too many failed attempts from this source or for this user: 503 with Retry-After. */
  | { kind: 'locked'; status: 503; scope: 'source' | 'user'; reason: string; retryAfterSeconds: number };

/** Offered by default: SHA-256 first, MD5 for the many UAs without it. */
export const DEFAULT_CHALLENGE_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

/** Verifier failures answered with a new challenge rather than 403, and whether it is stale. */
const RECHALLENGE: Partial<Record<AuthError['code'], boolean>> = {
  PB_ERR_AUTH_STALE_NONCE: true,
  PB_ERR_AUTH_REPLAY: true,
  PB_ERR_AUTH_BAD_NONCE: false,
  PB_ERR_AUTH_UNSUPPORTED_ALGORITHM: false,
};

function reject(reason: string): AdmissionDecision {
  return { kind: 'reject', status: 403, reason };
}

function credentialKey(realm: string, username: string): string {
  return `${realm}\0${username}`;
}

/** The inbound admission policy; build one with `createAdmissionPolicy`. */
export class AdmissionPolicy {
  readonly #realm: string;
  readonly #acl: Acl;
  readonly #passwords: ReadonlyMap<string, string>;
  readonly #algorithms: readonly DigestAlgorithm[];
  readonly #verifier: DigestVerifier;
  readonly #now: () => number;
  readonly #lockout: LockoutOptions;
  readonly #sourceFailures: FailureCounter;
  readonly #userFailures: FailureCounter;
  readonly #onLockout: ((event: LockoutEvent) => void) | undefined;
  readonly #stats: AdmissionStats = { challenges: 0, failures: 0, lockouts: { source: 0, user: 0 }, locked: { source: 0, user: 0 } };

  /** Prefer `createAdmissionPolicy`, which validates the configuration first. */
  constructor(realm: string, acl: Acl, passwords: ReadonlyMap<string, string>, config: AdmissionConfig) {
    this.#realm = realm;
    this.#acl = acl;
    this.#passwords = passwords;
    const algorithms = config.algorithms ?? DEFAULT_CHALLENGE_ALGORITHMS;
    this.#algorithms = algorithms.length > 0 ? algorithms : DEFAULT_CHALLENGE_ALGORITHMS;
    this.#verifier = new DigestVerifier(config.verifier);
    this.#now = config.lockout?.now ?? config.verifier?.now ?? Date.now;
    this.#lockout = { ...DEFAULT_LOCKOUT, ...config.lockout };
    this.#sourceFailures = new FailureCounter(this.#lockout, this.#lockout.maxSources);
    // only configured users are counted, so this table is as large as the user list at most
    this.#userFailures = new FailureCounter(this.#lockout, Math.max(1, passwords.size));
    this.#onLockout = config.onLockout;
  }

  /** Sources whose failed attempts are remembered (bounded by the lockout's `maxSources`). */
  get trackedSources(): number {
    return this.#sourceFailures.size;
  }

  /** @return the counters (a copy). */
  stats(): AdmissionStats {
    const s = this.#stats;
    return { challenges: s.challenges, failures: s.failures, lockouts: { ...s.lockouts }, locked: { ...s.locked } };
  }

  /** Decide what to do with one inbound request. */
  decide(request: AdmissionRequest): AdmissionDecision {
    const verdict = this.#acl.match(request.sourceIp);
    if (verdict === 'deny') return reject('source address denied');
    if (verdict === 'allow') return { kind: 'admit' };
    if (this.#passwords.size === 0) return reject('source address not allowed');
    const now = this.#now();
    const source = sourceKey(request.sourceIp) ?? request.sourceIp;
    const sourceLock = this.#sourceFailures.lockedFor(source, now);
    if (sourceLock > 0) return this.#locked('source', sourceLock);
    const values = typeof request.authorization === 'string' ? [request.authorization] : (request.authorization ?? []);
    let ours: string | undefined;
    let username: string | undefined;
    for (const value of values) {
      const parsed = parseAuthParams(value);
      if (!parsed.ok || parsed.value.scheme.toLowerCase() !== 'digest' || parsed.value.params.get('realm') !== this.#realm) continue;
      ours = value;
      username = parsed.value.params.get('username');
      break;
    }
    if (ours === undefined) return this.#challenge(false);
    const user = username !== undefined && this.#passwords.has(credentialKey(this.#realm, username)) ? username : undefined;
    const userLock = user === undefined ? 0 : this.#userFailures.lockedFor(user, now);
    if (userLock > 0) return this.#locked('user', userLock);
    const result = this.#verifier.verifyAuthorization({
      headerValue: ours,
      method: request.method,
      uri: request.uri,
      realm: this.#realm,
      lookup: (username, realm): StoredCredential | undefined => this.#passwords.get(credentialKey(realm, username)),
    });
    if (result.ok) {
      this.#userFailures.clear(result.value.username);
      return { kind: 'admit', username: result.value.username };
    }
    const stale = RECHALLENGE[result.error.code];
    if (stale !== undefined) return this.#challenge(stale);
    switch (result.error.code) {
      case 'PB_ERR_AUTH_UNKNOWN_USER':
      case 'PB_ERR_AUTH_BAD_RESPONSE':
        this.#failed(source, user, now);
        return reject('bad credentials');
      case 'PB_ERR_AUTH_URI_MISMATCH':
        return reject('digest uri does not match the Request-URI');
      default:
        return reject(`unusable credentials (${result.error.code})`);
    }
  }

  /** Count wrong credentials against the source and (a configured) user; tell about locks they start. */
  #failed(source: string, user: string | undefined, now: number): void {
    this.#stats.failures++;
    const lockSeconds = Math.ceil(this.#lockout.lockMs / 1000);
    const bySource = this.#sourceFailures.fail(source, now);
    if (bySource > 0) {
      this.#stats.lockouts.source++;
      this.#onLockout?.({ scope: 'source', key: source, failures: bySource, lockSeconds });
    }
    const byUser = user === undefined ? 0 : this.#userFailures.fail(user, now);
    if (byUser > 0) {
      this.#stats.lockouts.user++;
      this.#onLockout?.({ scope: 'user', key: user!, failures: byUser, lockSeconds });
    }
  }

  #locked(scope: 'source' | 'user', leftMs: number): AdmissionDecision {
    this.#stats.locked[scope]++;
    const reason = `too many failed authentication attempts ${scope === 'source' ? 'from this source' : 'for this user'}`;
    return { kind: 'locked', status: 503, scope, reason, retryAfterSeconds: Math.max(1, Math.ceil(leftMs / 1000)) };
  }

  #challenge(stale: boolean): AdmissionDecision {
    this.#stats.challenges++;
    const headers = this.#algorithms.map(
      (algorithm): ChallengeHeader => [
        'WWW-Authenticate',
        this.#verifier.createChallenge({ realm: this.#realm, algorithm, stale }),
      ],
    );
    const [header] = headers as [ChallengeHeader, ...ChallengeHeader[]];
    return { kind: 'challenge', status: 401, header, headers };
  }
}

/**
 * Build the admission policy from configuration.
 * @return the policy, or PB_ERR_AUTH_BAD_CIDR (a bad ACL entry) /
 *   PB_ERR_AUTH_MALFORMED (a credential without username or password).
 */
export function createAdmissionPolicy(config: AdmissionConfig): Result<AdmissionPolicy, AuthError> {
  const acl = createAcl(config.acls ?? DEFAULT_ACL_ENTRIES);
  if (!acl.ok) return acl;
  const passwords = new Map<string, string>();
  for (const [index, credential] of (config.credentials ?? []).entries()) {
    if (typeof credential?.username !== 'string' || typeof credential.password !== 'string' || !credential.username) {
      return err(new AuthMalformedError(`credential ${index} needs a username and a password`));
    }
    passwords.set(credentialKey(credential.realm ?? config.realm, credential.username), credential.password);
  }
  return ok(new AdmissionPolicy(config.realm, acl.value, passwords, config));
}
