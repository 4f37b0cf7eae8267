/**
 * Twilio-style resource identifiers: a two-letter prefix and 32 lowercase
 * hex digits (CallSid `CA…`, AccountSid `AC…`, SipDomainSid `SD…`).
 */
import { randomFillSync } from 'node:crypto';

// random bytes are drawn from a refilled pool: one crypto call per 256 SIDs, not one per SID
const POOL = Buffer.allocUnsafe(4096);
let used = POOL.length;

/** @return a new SID with `prefix` (e.g. `CA`) and 32 random hex digits (128 bits from the CSPRNG). */
export function newSid(prefix: string): string {
  if (used + 16 > POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  const hex = POOL.toString('hex', used, used + 16);
  used += 16;
  return prefix + hex;
}

/** @return true when `sid` is `prefix` followed by 32 hex digits. */
export function isSid(sid: string, prefix: string): boolean {
  return sid.length === 34 && sid.startsWith(prefix) && /^[0-9a-f]{32}$/i.test(sid.slice(2));
}
