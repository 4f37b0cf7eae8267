/**
 * HTTP Basic authentication of the REST API and the event stream, the way
 * Twilio does it: user = AccountSid, password = AuthToken.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The account the API serves. */
export interface ApiCredentials {
  /** `AC` + 32 hex digits; the only account in every path. */
  readonly accountSid: string;
  /** The secret; also what webhooks are signed with. */
  readonly authToken: string;
}

/** The challenge Twilio sends with 401. */
export const WWW_AUTHENTICATE = 'Basic realm="Twilio API"';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time string comparison (through fixed-length digests). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * @param header - the Authorization header ('' if absent)
 * @return true when it is `Basic base64(AccountSid:AuthToken)` for `credentials`
 */
export function checkBasic(header: string, credentials: ApiCredentials): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  // evaluate both so the time does not tell which part was wrong
  const userOk = safeEqual(user, credentials.accountSid);
  const passwordOk = safeEqual(password, credentials.authToken);
  return userOk && passwordOk;
}
