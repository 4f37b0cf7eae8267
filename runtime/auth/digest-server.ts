/**
 * The UAS side of SIP digest authentication (RFC 3261 §22.4, RFC 7616
 * §3.3–§3.4, RFC 8760): challenges with signed, time-stamped nonces
 * and verification of the Authorization that answers them, with constant-
 * time comparisons and nonce-count replay protection. Pure: no sockets.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { parseAuthParams, quote } from './auth-params.js';
import {
  computeHa1,
  computeResponse,
  digestHex,
  findAlgorithm,
  responseLength,
  type DigestAlgorithm,
} from './digest-hash.js';
import {
  AuthBadNonceError,
  AuthBadResponseError,
  AuthMalformedError,
  AuthRealmMismatchError,
  AuthReplayError,
  AuthStaleNonceError,
  AuthUnknownUserError,
  AuthUnsupportedAlgorithmError,
  AuthUnsupportedQopError,
  AuthUnsupportedSchemeError,
  AuthUriMismatchError,
  err,
  ok,
  type AuthError,
  type Result,
} from './errors.js';
import { NonceCountTracker, NonceSigner } from './nonce.js';

/** Default nonce lifetime: five minutes, then `stale=true`. */
export const DEFAULT_NONCE_LIFETIME_MS = 300_000;
/** Default number of nonces whose counts are remembered. */
export const DEFAULT_MAX_TRACKED_NONCES = 10_000;
/** How far in the future a nonce's issue time may be (clock steps, several processes). */
const MAX_CLOCK_SKEW_MS = 5_000;
const NONCE_COUNT_PATTERN = /^[0-9a-fA-F]{8}$/;
const HEX_PATTERN = /^[0-9a-fA-F]+$/;

/** Settings of a `DigestVerifier`. */
export interface DigestVerifierOptions {
  /** HMAC key for nonces; random per process when omitted (share it between processes that verify each other's nonces). */
  secret?: Uint8Array | string;
  /** Age after which a nonce is stale. */
  nonceLifetimeMs?: number;
  /** Bound on the nonce-count memory. */
  maxTrackedNonces?: number;
  /** Clock in milliseconds (inject for tests). */
  now?: () => number;
}

/** What to challenge with. */
export interface ChallengeOptions {
  realm: string;
  algorithm: DigestAlgorithm;
  /** Set when the previous answer was right but its nonce had aged. */
  stale?: boolean;
}

/** A stored credential: a plain string is a password, `{ha1}` is H(username:realm:password) for the asked algorithm. */
export type StoredCredential = string | { password: string } | { ha1: string };

/** Find the credential of `username` in `realm` for `algorithm`; undefined when unknown. */
export type CredentialLookup = (
  username: string,
  realm: string,
  algorithm: DigestAlgorithm,
) => StoredCredential | undefined;

/** One inbound request's credentials to check. */
export interface VerifyOptions {
  /** The Authorization or Proxy-Authorization value. */
  headerValue: string;
  method: string;
  /** The Request-URI as received. */
  uri: string;
  lookup: CredentialLookup;
  /** When set, credentials for any other realm are refused. */
  realm?: string;
}

/** Who was authenticated. */
export interface VerifiedUser {
  username: string;
  realm: string;
  algorithm: DigestAlgorithm;
}

interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  cnonce: string;
  nc: number;
  ncText: string;
}

function malformed(message: string): { ok: false; error: AuthMalformedError } {
  return err(new AuthMalformedError(message));
}

/** Read an Authorization value into the fields verification needs (qop=auth only: it is all we offer). */
function readCredentials(headerValue: string): Result<DigestCredentials, AuthError> {
  const parsed = parseAuthParams(headerValue);
  if (!parsed.ok) return parsed;
  const { scheme, params } = parsed.value;
  if (scheme.toLowerCase() !== 'digest') return err(new AuthUnsupportedSchemeError(`scheme ${scheme} is not supported`));
  const username = params.get('username');
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  const uri = params.get('uri');
  const response = params.get('response');
  if (username === undefined || realm === undefined || !nonce || !uri || !response) {
    return malformed('credentials need username, realm, nonce, uri and response');
  }
  const algorithmToken = params.get('algorithm') ?? 'MD5';
  const algorithm = findAlgorithm(algorithmToken);
  if (algorithm === undefined) return err(new AuthUnsupportedAlgorithmError(`algorithm ${algorithmToken} is not supported`));
  const qop = params.get('qop');
  if (qop?.toLowerCase() !== 'auth') return err(new AuthUnsupportedQopError(`qop must be auth, got ${qop ?? 'none'}`));
  const ncText = params.get('nc') ?? '';
  const cnonce = params.get('cnonce');
  if (!NONCE_COUNT_PATTERN.test(ncText) || !cnonce) return malformed('qop=auth needs nc (8 hex digits) and cnonce');
  const nc = Number.parseInt(ncText, 16);
  if (nc === 0) return malformed('nc starts at 00000001');
  if (response.length !== responseLength(algorithm) || !HEX_PATTERN.test(response)) {
    return malformed(`response is not a ${algorithm} digest`);
  }
  return ok({ username, realm, nonce, uri, response: response.toLowerCase(), algorithm, cnonce, nc, ncText });
}

function equalHex(expected: string, received: string): boolean {
  const left = Buffer.from(expected, 'latin1');
  const right = Buffer.from(received, 'latin1');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Issues challenges and verifies the answers. Nonces are verified
 * statelessly (HMAC + timestamp); only accepted nonce counts are remembered,
 * in a bounded tracker.
 */
export class DigestVerifier {
  readonly #signer: NonceSigner;
  readonly #tracker: NonceCountTracker;
  readonly #lifetimeMs: number;
  readonly #now: () => number;

  constructor(options: DigestVerifierOptions = {}) {
    this.#signer = new NonceSigner(options.secret ?? randomBytes(32));
    this.#tracker = new NonceCountTracker(options.maxTrackedNonces ?? DEFAULT_MAX_TRACKED_NONCES);
    this.#lifetimeMs = options.nonceLifetimeMs ?? DEFAULT_NONCE_LIFETIME_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Nonces whose counts are currently remembered. */
  get trackedNonces(): number {
    return this.#tracker.size;
  }

  /** A WWW-Authenticate/Proxy-Authenticate value with a fresh nonce and qop="auth". */
  createChallenge(options: ChallengeOptions): string {
    const nonce = this.#signer.mint(options.realm, options.algorithm, this.#now());
    const stale = options.stale ? ', stale=true' : '';
    return `Digest realm=${quote(options.realm)}, nonce="${nonce}", algorithm=${options.algorithm}, qop="auth"${stale}`;
  }

  /**
   * Check an Authorization/Proxy-Authorization value against the request.
   * Order matters: the digest is checked before age and count, so
   * `PB_ERR_AUTH_STALE_NONCE` (re-challenge with stale=true) and
   * `PB_ERR_AUTH_REPLAY` only go to someone who knew the password.
   * @return the user, or PB_ERR_AUTH_MALFORMED / _UNSUPPORTED_* /
   *   _REALM_MISMATCH / _URI_MISMATCH / _BAD_NONCE / _UNKNOWN_USER /
   *   _BAD_RESPONSE / _STALE_NONCE / _REPLAY.
   */
  verifyAuthorization(options: VerifyOptions): Result<VerifiedUser, AuthError> {
    const read = readCredentials(options.headerValue);
    if (!read.ok) return read;
    const credentials = read.value;
    const { username, realm, algorithm, nonce } = credentials;
    if (options.realm !== undefined && realm !== options.realm) {
      return err(new AuthRealmMismatchError(`credentials are for realm "${realm}"`));
    }
    if (credentials.uri !== options.uri) return err(new AuthUriMismatchError('digest uri is not the Request-URI'));
    const now = this.#now();
    const issuedAt = this.#signer.open(nonce, realm, algorithm);
    if (issuedAt === undefined || issuedAt > now + MAX_CLOCK_SKEW_MS) {
      return err(new AuthBadNonceError('nonce was not issued here for this realm and algorithm'));
    }
    const stored = options.lookup(username, realm, algorithm);
    const ha1 = this.#ha1(stored, credentials);
    const expected = computeResponse({
      algorithm,
      ha1,
      nonce,
      method: options.method,
      uri: options.uri,
      qop: 'auth',
      cnonce: credentials.cnonce,
      nc: credentials.ncText,
      body: undefined,
    });
    const matches = equalHex(expected, credentials.response);
    if (stored === undefined) return err(new AuthUnknownUserError(`no user "${username}" in realm "${realm}"`));
    if (!matches) return err(new AuthBadResponseError(`wrong digest response for "${username}"`));
    if (now - issuedAt > this.#lifetimeMs) return err(new AuthStaleNonceError('nonce has expired'));
    const verdict = this.#tracker.check(nonce, issuedAt, credentials.nc);
    if (verdict === 'forgotten') return err(new AuthStaleNonceError('nonce is no longer tracked'));
    if (verdict === 'replay') return err(new AuthReplayError(`nc ${credentials.ncText} was already used`));
    this.#tracker.record(nonce, issuedAt, credentials.nc, now - this.#lifetimeMs);
    return ok({ username, realm, algorithm });
  }

  /** HA1 for the stored credential; a throwaway one for unknown users so timing does not tell. */
  #ha1(stored: StoredCredential | undefined, credentials: DigestCredentials): string {
    const { algorithm, username, realm } = credentials;
    if (stored === undefined) return digestHex(algorithm, randomBytes(16));
    if (typeof stored === 'string') return computeHa1(algorithm, username, realm, stored);
    if ('password' in stored) return computeHa1(algorithm, username, realm, stored.password);
    return stored.ha1.toLowerCase();
  }
}
