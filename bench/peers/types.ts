/**
 * The shape every JavaScript peer-parser adapter exposes to the benches and to the peer tests.
 */

/** The fields a stateless proxy or a transaction layer reads from every message (RFC 3261 §16, §17.2.3). */
export interface ProxyFields {
  /** `branch` parameter of the top Via. */
  branch: string | undefined;
  /** Call-ID value. */
  callId: string | undefined;
  /** CSeq sequence number. */
  cseq: number | undefined;
  /** `tag` parameter of From. */
  fromTag: string | undefined;
  /** `tag` parameter of To; absent on out-of-dialog requests. */
  toTag: string | undefined;
}

/** One JavaScript SIP parser, adapted to take wire bytes. */
export interface SipPeer {
  /** npm package name and version, e.g. `jssip@3.13.8`. */
  name: string;
  /**
   * Parses one message from its wire bytes, converting bytes to text the way the library's own
   * transport does. Returns the library's message object, or `undefined` when it rejects the input.
   */
  parse(bytes: Uint8Array): unknown;
  /** Parses one message, then reads the fields a proxy needs through the library's own API. */
  proxyFields(bytes: Uint8Array): ProxyFields;
}
