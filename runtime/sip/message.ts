/**
 * The outgoing message model: what every layer above builds and hands to
 * serialize.ts. Plain data, so a TU can inspect and edit it before it is
 * sent. Header order is kept exactly as given. Browser-safe.
 */

/** One header line as a (name, value) pair; repeated names are separate entries. */
export type HeaderField = [name: string, value: string];

/** A request about to be sent (RFC 3261 §7.1). */
export interface OutgoingRequest {
  /** Method token, e.g. INVITE. */
  method: string;
  /** Request-URI as it goes on the start line. */
  uri: string;
  /** Header fields in wire order; Content-Length is computed and must not be given. */
  headers: HeaderField[];
  /** Body bytes (Content-Length is set from its length). */
  body?: Uint8Array;
}

/** A response about to be sent (RFC 3261 §7.2). */
export interface OutgoingResponse {
  /** Status code 100-699. */
  status: number;
  /** Reason-Phrase (may be empty). */
  reason: string;
  /** Header fields in wire order; Content-Length is computed and must not be given. */
  headers: HeaderField[];
  /** Body bytes. */
  body?: Uint8Array;
}

/** Either kind of outgoing message. */
export type OutgoingMessage = OutgoingRequest | OutgoingResponse;

/** @return true when `message` is a response. */
export function isOutgoingResponse(message: OutgoingMessage): message is OutgoingResponse {
  return (message as OutgoingResponse).status !== undefined;
}

/**
 * @return the first value of header `name` (case-insensitive, full names only), or undefined.
 */
export function findHeader(headers: readonly HeaderField[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}

/** @return every value of header `name` (case-insensitive, full names only), in order. */
export function findHeaders(headers: readonly HeaderField[], name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const [n, v] of headers) if (n.toLowerCase() === lower) out.push(v);
  return out;
}

const utf8 = new TextEncoder();

/** @return `text` as a UTF-8 body. */
export function textBody(text: string): Uint8Array {
  return utf8.encode(text);
}
