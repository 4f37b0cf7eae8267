/**
 * Digest computations shared by the client and the verifier: the A1/A2/
 * response rules of RFC 7616 §3.4.1–§3.4.3 (RFC 2617 §3.2.2 for MD5), with
 * the algorithms RFC 8760 adds to SIP (SHA-512-256 is not implemented).
 */
import { createHash } from 'node:crypto';

/** The digest algorithms we implement, spelled as on the wire. */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

/** The qop values we implement (RFC 7616 §3.3). */
export type Qop = 'auth' | 'auth-int';

/** Every supported algorithm, most preferred first (the order challenges are offered in). */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

const BY_LOWER_NAME = new Map<string, DigestAlgorithm>(DIGEST_ALGORITHMS.map((name) => [name.toLowerCase(), name]));

/** The canonical spelling of an algorithm token (case-insensitive), or undefined. */
export function findAlgorithm(token: string): DigestAlgorithm | undefined {
  return BY_LOWER_NAME.get(token.toLowerCase());
}

/** Strength rank used to choose among challenges: higher is better. */
export function algorithmRank(algorithm: DigestAlgorithm): number {
  return algorithm.startsWith('SHA-256') ? 2 : 1;
}

/** True for the `-sess` variants, whose A1 also covers nonce and cnonce. */
export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith('-sess');
}

/** Length in hex characters of a response computed with `algorithm`. */
export function responseLength(algorithm: DigestAlgorithm): number {
  return algorithm.startsWith('SHA-256') ? 64 : 32;
}

/** Lower-case hex digest of UTF-8 `data` (or raw bytes) with the algorithm's hash function. */
export function digestHex(algorithm: DigestAlgorithm, data: string | Uint8Array): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(data)
    .digest('hex');
}

/** H(username ":" realm ":" password): the non-session HA1 a credential store may keep. */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHex(algorithm, `${username}:${realm}:${password}`);
}

/** Everything the response depends on. */
export interface DigestInput {
  algorithm: DigestAlgorithm;
  /** H(username:realm:password), before any `-sess` step. */
  ha1: string;
  nonce: string;
  method: string;
  uri: string;
  /** Undefined for the RFC 2069 form (challenge without qop). */
  qop: Qop | undefined;
  /** Required with qop and with `-sess`. */
  cnonce: string;
  /** Eight lower-case hex digits. */
  nc: string;
  /** The message body, hashed for auth-int (empty when absent). */
  body: string | Uint8Array | undefined;
}

/** The request-digest of RFC 7616 §3.4.1, lower-case hex. */
export function computeResponse(input: DigestInput): string {
  const { algorithm, nonce, cnonce, qop } = input;
  const ha1 = isSessionAlgorithm(algorithm) ? digestHex(algorithm, `${input.ha1}:${nonce}:${cnonce}`) : input.ha1;
  const a2 =
    qop === 'auth-int'
      ? `${input.method}:${input.uri}:${digestHex(algorithm, input.body ?? '')}`
      : `${input.method}:${input.uri}`;
  const ha2 = digestHex(algorithm, a2);
  if (qop === undefined) return digestHex(algorithm, `${ha1}:${nonce}:${ha2}`);
  return digestHex(algorithm, `${ha1}:${nonce}:${input.nc}:${cnonce}:${qop}:${ha2}`);
}

/** Format a nonce count as the eight hex digits of RFC 7616 §3.4 (`nc=00000001`). */
export function formatNonceCount(count: number): string {
  return (count >>> 0).toString(16).padStart(8, '0');
}
