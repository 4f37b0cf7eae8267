/**
 * Twilio-style resource identifiers: a two-letter prefix and 32 lowercase
 * hex digits (CallSid `CA…`, AccountSid `AC…`, SipDomainSid `SD…`).
 */
import { randomBytes } from 'node:crypto';

/** @return a new SID with `prefix` (e.g. `CA`) and 32 random hex digits. */
export function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** @return true when `sid` is `prefix` followed by 32 hex digits. */
export function isSid(sid: string, prefix: string): boolean {
  return sid.length === 34 && sid.startsWith(prefix) && /^[0-9a-f]{32}$/i.test(sid.slice(2));
}
