/**
 * Outgoing messages to wire bytes (RFC 3261 §7): CRLF line ends, one header
 * field per line in the given order, full header names only (compact forms
 * are expanded, never emitted), Content-Length computed from the body (one
 * given by hand is dropped).
 * Every name and value is checked on the way out: CR, LF, NUL and other
 * control characters are refused so a value can never smuggle a header
 * (sipgo README "SECURITY"; undici test/headers-crlf.js). Browser-safe.
 */
import { HEADER_NAMES } from '../wasm/abi.js';
import { headerIdOf } from '../wasm/message-view.js';
import { SipBuildError } from './errors.js';
import type { HeaderField, OutgoingMessage, OutgoingRequest, OutgoingResponse } from './message.js';
import { isOutgoingResponse } from './message.js';

/** Control characters except HTAB (RFC 3261 §25.1 forbids them in header values). */
const CTL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** RFC 3261 §25.1 `token`. */
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
/** Request-URI: no whitespace, no controls. */
const URI_FORBIDDEN = /[\x00-\x20\x7f]/;

const utf8 = new TextEncoder();

function checkHeader(name: string, value: string): string {
  if (CTL.test(name) || CTL.test(value)) {
    throw new SipBuildError('PB_ERR_SIP_HEADER_INJECTION', name, `header ${JSON.stringify(name)} contains a control character (CR, LF, NUL...)`);
  }
  if (!TOKEN.test(name)) {
    throw new SipBuildError('PB_ERR_SIP_HEADER_NAME', name, `header name ${JSON.stringify(name)} is not a token`);
  }
  if (name.length === 1) {
    const id = headerIdOf(name);
    if (id > 0) name = HEADER_NAMES[id]!;
  }
  return name;
}

function headerBlock(headers: readonly HeaderField[], bodyLength: number): string {
  let s = '';
  for (const [rawName, value] of headers) {
    const name = checkHeader(rawName, value);
    // a Content-Length given by hand (say, copied from an inbound message) is replaced by the computed one
    if (name.length === 14 && name.toLowerCase() === 'content-length') continue;
    s += `${name}: ${value}\r\n`;
  }
  return `${s}Content-Length: ${bodyLength}\r\n\r\n`;
}

function concat(head: string, body: Uint8Array | undefined): Uint8Array {
  const headBytes = utf8.encode(head);
  if (!body || body.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes, 0);
  out.set(body, headBytes.length);
  return out;
}

/**
 * @return the request line and headers of `request` as text, without the body.
 * @throws SipBuildError when a field is unsafe or malformed
 */
export function formatRequestHead(request: OutgoingRequest): string {
  if (!TOKEN.test(request.method)) {
    throw new SipBuildError(CTL.test(request.method) ? 'PB_ERR_SIP_HEADER_INJECTION' : 'PB_ERR_SIP_START_LINE', 'method', `method ${JSON.stringify(request.method)} is not a token`);
  }
  if (request.uri.length === 0 || URI_FORBIDDEN.test(request.uri)) {
    throw new SipBuildError(CTL.test(request.uri) ? 'PB_ERR_SIP_HEADER_INJECTION' : 'PB_ERR_SIP_START_LINE', 'uri', `Request-URI ${JSON.stringify(request.uri)} is empty or contains whitespace`);
  }
  return `${request.method} ${request.uri} SIP/2.0\r\n${headerBlock(request.headers, request.body?.length ?? 0)}`;
}

/**
 * @return the status line and headers of `response` as text, without the body.
 * @throws SipBuildError when a field is unsafe or malformed
 */
export function formatResponseHead(response: OutgoingResponse): string {
  const { status, reason } = response;
  if (!Number.isInteger(status) || status < 100 || status > 699) {
    throw new SipBuildError('PB_ERR_SIP_STATUS', 'status', `status ${status} is not an integer from 100 to 699`);
  }
  if (CTL.test(reason)) {
    throw new SipBuildError('PB_ERR_SIP_HEADER_INJECTION', 'reason', `reason phrase ${JSON.stringify(reason)} contains a control character`);
  }
  return `SIP/2.0 ${status} ${reason}\r\n${headerBlock(response.headers, response.body?.length ?? 0)}`;
}

/**
 * Serialize a request (RFC 3261 §7.1).
 * @return the wire bytes
 * @throws SipBuildError (code PB_ERR_SIP_HEADER_INJECTION for CR/LF/NUL anywhere)
 */
export function serializeRequest(request: OutgoingRequest): Uint8Array {
  return concat(formatRequestHead(request), request.body);
}

/**
 * Serialize a response (RFC 3261 §7.2).
 * @return the wire bytes
 * @throws SipBuildError (code PB_ERR_SIP_HEADER_INJECTION for CR/LF/NUL anywhere)
 */
export function serializeResponse(response: OutgoingResponse): Uint8Array {
  return concat(formatResponseHead(response), response.body);
}

/** Serialize either kind of message. @throws SipBuildError */
export function serializeMessage(message: OutgoingMessage): Uint8Array {
  return isOutgoingResponse(message) ? serializeResponse(message) : serializeRequest(message);
}
