/**
 * The UAC side of SIP digest authentication (RFC 3261 §22.2–§22.3, RFC 2617,
 * RFC 7616, RFC 8760): answer a 401/407 once per challenge and keep the
 * answered challenges so later requests (in-dialog ones included) carry
 * credentials with a rising nonce count. Pure: no sockets, no timers.
 */
import { randomBytes } from 'node:crypto';
import { isQuotable, quote } from './auth-params.js';
import { selectChallenges, type Challenge } from './challenge.js';
import { computeHa1, computeResponse, formatNonceCount, type Qop } from './digest-hash.js';
import {
  AuthMalformedError,
  AuthNoCredentialsError,
  AuthRejectedError,
  err,
  ok,
  type AuthError,
  type Result,
} from './errors.js';

export { parseChallenge, selectChallenges, type Challenge } from './challenge.js';

/** What `createAuthorization` needs to answer one challenge. */
export interface AuthorizationOptions {
  challenge: Challenge;
  /** The request method. The ACK of a 2xx copies its INVITE's credentials instead (RFC 3261 §13.2.2.4). */
  method: string;
  /** The Request-URI, exactly as it will be sent. */
  uri: string;
  username: string;
  password: string;
  /** The message body; hashed only when the challenge offers nothing but auth-int. */
  body?: string | Uint8Array;
  /** Client nonce; a random 128-bit hex value when omitted. */
  cnonce?: string;
  /** Nonce count, 1 for the first use of this nonce. */
  nc?: number;
}

/** Header names a challenge is answered with. */
export type AuthHeaderName = 'Authorization' | 'Proxy-Authorization';

/** One header to add to the request: `[name, value]`. */
export type AuthHeader = readonly [AuthHeaderName, string];

/** A username/password pair. */
export interface DigestCredentials {
  username: string;
  password: string;
}

/** A fresh random client nonce (RFC 7616 §3.4: opaque to the server). */
export function createCnonce(): string {
  return randomBytes(16).toString('hex');
}

function chooseQop(offered: readonly Qop[]): Qop | undefined {
  if (offered.length === 0) return undefined;
  return offered.includes('auth') ? 'auth' : 'auth-int';
}

/**
 * Compute the Authorization/Proxy-Authorization value answering `challenge`
 * (qop=auth when offered, auth-int when it is the only offer, the RFC 2069
 * form when the challenge has no qop).
 * @throws AuthMalformedError when username, method or uri hold control
 *   characters: a caller bug, since such input must be refused upstream.
 */
export function createAuthorization(options: AuthorizationOptions): string {
  const { challenge, method, uri, username } = options;
  if (!isQuotable(username) || !isQuotable(uri) || !isQuotable(method)) {
    throw new AuthMalformedError('username, method and uri must not contain control characters');
  }
  const qop = chooseQop(challenge.qop);
  const cnonce = options.cnonce ?? createCnonce();
  const nc = formatNonceCount(options.nc ?? 1);
  const response = computeResponse({
    algorithm: challenge.algorithm,
    ha1: computeHa1(challenge.algorithm, username, challenge.realm, options.password),
    nonce: challenge.nonce,
    method,
    uri,
    qop,
    cnonce,
    nc,
    body: options.body,
  });
  const parts = [
    `username=${quote(username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(uri)}`,
    `response="${response}"`,
    `algorithm=${challenge.algorithm}`,
  ];
  if (qop !== undefined) parts.push(`cnonce=${quote(cnonce)}`, `qop=${qop}`, `nc=${nc}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

/** A 401 or 407 as the session needs it. */
export interface ChallengeResponse {
  status: 401 | 407;
  /** Every WWW-Authenticate (401) or Proxy-Authenticate (407) value, top first. */
  challenges: readonly string[];
}

/** The request about to be (re)sent. */
export interface OutgoingRequest {
  method: string;
  uri: string;
  body?: string | Uint8Array;
}

/** How a `DigestSession` finds credentials and client nonces. */
export interface DigestSessionOptions {
  /** One pair for every realm, or a lookup by realm (undefined: no credentials there). */
  credentials: DigestCredentials | ((realm: string) => DigestCredentials | undefined);
  /** Client-nonce source; random by default (inject for tests). */
  createCnonce?: () => string;
}

interface RealmState {
  header: AuthHeaderName;
  challenge: Challenge;
  credentials: DigestCredentials;
  /** Nonce count of the last answer sent with this challenge's nonce. */
  nc: number;
}

/** Realms remembered at once; the oldest is forgotten beyond this. */
export const MAX_SESSION_REALMS = 8;

/**
 * Digest state for one UA or dialog: the last challenge per realm, its nonce
 * count, and the once-per-challenge rule (RFC 3261 §22.2: a second
 * challenge with the same nonce, not stale, means the credentials were
 * refused).
 */
export class DigestSession {
  readonly #credentials: DigestSessionOptions['credentials'];
  readonly #createCnonce: () => string;
  readonly #realms = new Map<string, RealmState>();

  constructor(options: DigestSessionOptions) {
    this.#credentials = options.credentials;
    this.#createCnonce = options.createCnonce ?? createCnonce;
  }

  /** Realms the session currently holds a challenge for. */
  get realms(): string[] {
    return [...this.#realms.keys()];
  }

  /**
   * Take a 401/407 and return every header the retried request must carry:
   * the new answers plus the ones remembered for other realms (a proxy's
   * 407 and the UAS's 401 both stay answered, RFC 3261 §22.3).
   * @return the headers, or PB_ERR_AUTH_NO_CHALLENGE / _NO_CREDENTIALS /
   *   _REJECTED (the same challenge again: wrong credentials).
   */
  answer(response: ChallengeResponse, request: OutgoingRequest): Result<AuthHeader[], AuthError> {
    const header: AuthHeaderName = response.status === 407 ? 'Proxy-Authorization' : 'Authorization';
    const selected = selectChallenges(response.challenges);
    if (!selected.ok) return selected;
    if (!isQuotable(request.uri) || !isQuotable(request.method)) {
      return err(new AuthMalformedError('method and uri must not contain control characters'));
    }
    const updates: RealmState[] = [];
    for (const challenge of selected.value) {
      const previous = this.#realms.get(challenge.realm);
      if (previous !== undefined && previous.challenge.nonce === challenge.nonce && !challenge.stale) {
        return err(new AuthRejectedError(`credentials for realm "${challenge.realm}" were refused`));
      }
      const credentials = this.#lookup(challenge.realm);
      if (credentials === undefined || !isQuotable(credentials.username)) {
        return err(new AuthNoCredentialsError(`no usable credentials for realm "${challenge.realm}"`));
      }
      updates.push({ header, challenge, credentials, nc: 0 });
    }
    for (const update of updates) {
      this.#realms.delete(update.challenge.realm);
      this.#realms.set(update.challenge.realm, update);
      if (this.#realms.size > MAX_SESSION_REALMS) this.#realms.delete(this.#realms.keys().next().value as string);
    }
    return ok(this.authorize(request));
  }

  /**
   * Credentials for a request sent without a fresh challenge (an in-dialog
   * BYE, re-INVITE, the next REGISTER): every remembered realm answered
   * again with the next nonce count. Empty when nothing is remembered.
   */
  authorize(request: OutgoingRequest): AuthHeader[] {
    const headers: AuthHeader[] = [];
    for (const state of this.#realms.values()) {
      state.nc += 1;
      const value = createAuthorization({
        challenge: state.challenge,
        method: request.method,
        uri: request.uri,
        username: state.credentials.username,
        password: state.credentials.password,
        body: request.body,
        cnonce: this.#createCnonce(),
        nc: state.nc,
      });
      headers.push([state.header, value]);
    }
    return headers;
  }

  /** Drop the remembered challenge of one realm, or of all of them. */
  forget(realm?: string): void {
    if (realm === undefined) this.#realms.clear();
    else this.#realms.delete(realm);
  }

  #lookup(realm: string): DigestCredentials | undefined {
    const credentials = this.#credentials;
    return typeof credentials === 'function' ? credentials(realm) : credentials;
  }
}
