/**
 * HTTP Basic authentication of the REST API and the event stream, the way
 * Twilio does it: user = AccountSid, password = AuthToken.
 */
import * as crypto from 'node:crypto';

/** The account the API serves. */
export interface ApiCredentials {
  /** `AC` + 32 hex digits; the only account in every path. */
  readonly accountSid: string;
  /** The secret; also what webhooks are signed with. */
  readonly authToken: string;
}

/** The challenge Twilio sends with 401. */
export const WWW_AUTHENTICATE = 'Basic realm="Twilio API"';

/** One-shot `crypto.hash` (Node ≥ 20.12) when present: about twice as fast as createHash for short input. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;

function digest(text: string): Buffer {
  return oneShot ? oneShot('sha256', text, 'buffer') : crypto.createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time string comparison (through fixed-length digests). */
export function safeEqual(a: string, b: string): boolean {
  return crypto.timingSafeEqual(digest(a), digest(b));
}

/** Checks Authorization headers against one account. */
export type BasicChecker = (header: string) => boolean;

/**
 * Build the checker of `Basic base64(AccountSid:AuthToken)` for `credentials`:
 * the decoded `user:password` is compared with the expected one through
 * SHA-256 digests (constant time, one hash per request).
 */
export function basicChecker(credentials: ApiCredentials): BasicChecker {
  const expected = digest(`${credentials.accountSid}:${credentials.authToken}`);
  return (header) => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) return false;
    // the AccountSid has no colon, so equality of the whole pair is equality of both parts
    return crypto.timingSafeEqual(digest(Buffer.from(match[1]!, 'base64').toString('utf8')), expected);
  };
}

/**
 * @param header - the Authorization header ('' if absent)
 * @return true when it is `Basic base64(AccountSid:AuthToken)` for `credentials`
 */
export function checkBasic(header: string, credentials: ApiCredentials): boolean {
  return basicChecker(credentials)(header);
}
