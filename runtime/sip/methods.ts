/**
 * The SIP methods Patchbay names in its counters. A method is any token on
 * the wire (RFC 3261 §25.1 `extension-method`), so a label per received
 * method would let a peer create one metric series per made-up name; the
 * registered methods keep their own label and every other one shares
 * `other`. Browser-safe.
 */

/** The label every unregistered method shares. */
export const OTHER_METHOD = 'other';

/**
 * The methods of the IANA "Methods and Response Codes" registry: RFC 3261
 * (INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER), RFC 3262 PRACK, RFC 6665
 * SUBSCRIBE/NOTIFY, RFC 3311 UPDATE, RFC 3428 MESSAGE, RFC 3515 REFER,
 * RFC 3903 PUBLISH, RFC 6086 INFO.
 */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY',
  'UPDATE', 'MESSAGE', 'REFER', 'PUBLISH', 'INFO',
]);

/** @return `method` when it is registered (methods are case-sensitive, RFC 3261 §7.1), else `other`. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : OTHER_METHOD;
}
