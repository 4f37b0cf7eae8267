/**
 * Builders for outgoing messages: responses to a received request (RFC 3261
 * §8.2.6), new requests (§8.1.1), and the two requests the transaction
 * layer derives from one it sent: the ACK for a non-2xx final response
 * (§17.1.1.3) and CANCEL (§9.1). Values are written as given; serialize.ts
 * refuses unsafe ones. Browser-safe.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField, OutgoingRequest, OutgoingResponse } from './message.js';
import { findHeader, findHeaders } from './message.js';
import { reasonPhrase } from './reason-phrases.js';
import { newCallId, newTag } from './ids.js';

/** Options of {@link createResponse}. */
export interface ResponseOptions {
  /** To tag to add when the request's To has none (RFC 3261 §8.2.6.2; reuse it for every response of one dialog). */
  toTag?: string;
  /** Extra headers, appended after the copied ones. */
  headers?: HeaderField[];
  /** Body. */
  body?: Uint8Array;
}

/**
 * Build a response to `request` (RFC 3261 §8.2.6): every Via in order, From,
 * To (with `toTag` added when given and the To has no tag), Call-ID and CSeq
 * are copied; a 100 also copies Timestamp (§8.2.6.1).
 * @param request  the received request (a detached view, or one still current)
 * @param status   100-699
 * @param reason   Reason-Phrase (default: the standard phrase for `status`)
 */
export function createResponse(request: MessageView, status: number, reason?: string, options: ResponseOptions = {}): OutgoingResponse {
  const headers: HeaderField[] = [];
  for (const via of request.headers('Via')) headers.push(['Via', via]);
  headers.push(['From', request.header('From') ?? '']);
  let to = request.header('To') ?? '';
  if (options.toTag !== undefined && request.toTag === undefined) to += `;tag=${options.toTag}`;
  headers.push(['To', to]);
  headers.push(['Call-ID', request.callId ?? '']);
  headers.push(['CSeq', request.header('CSeq') ?? '']);
  if (status === 100) {
    const timestamp = request.header('Timestamp');
    if (timestamp !== undefined) headers.push(['Timestamp', timestamp]);
  }
  if (options.headers) headers.push(...options.headers);
  const response: OutgoingResponse = { status, reason: reason ?? reasonPhrase(status), headers };
  if (options.body) response.body = options.body;
  return response;
}

/** Options of {@link createRequest}. */
export interface RequestOptions {
  /** From value (name-addr); a tag is added when it has none (RFC 3261 §8.1.1.3). */
  from: string;
  /** To value (name-addr). */
  to: string;
  /** Call-ID (default: a new one). */
  callId?: string;
  /** CSeq number (default 1). */
  cseq?: number;
  /** Contact value, when the request needs one. */
  contact?: string;
  /** Max-Forwards (default 70, RFC 3261 §8.1.1.6). */
  maxForwards?: number;
  /** Extra headers, appended. */
  headers?: HeaderField[];
  /** Body. */
  body?: Uint8Array;
}

const HAS_TAG = /;\s*tag\s*=/i;

/** @return true when the name-addr or addr-spec `value` carries a `tag` parameter (outside its `<uri>`). */
export function hasTag(value: string): boolean {
  const close = value.lastIndexOf('>');
  return HAS_TAG.test(close < 0 ? value : value.slice(close));
}

/**
 * Build a new request outside a dialog (RFC 3261 §8.1.1). The Via is added
 * by the transaction layer when the request is sent.
 */
export function createRequest(method: string, uri: string, options: RequestOptions): OutgoingRequest {
  const from = hasTag(options.from) ? options.from : `${options.from};tag=${newTag()}`;
  const headers: HeaderField[] = [
    ['Max-Forwards', String(options.maxForwards ?? 70)],
    ['From', from],
    ['To', options.to],
    ['Call-ID', options.callId ?? newCallId()],
    ['CSeq', `${options.cseq ?? 1} ${method}`],
  ];
  if (options.contact !== undefined) headers.push(['Contact', options.contact]);
  if (options.headers) headers.push(...options.headers);
  const request: OutgoingRequest = { method, uri, headers };
  if (options.body) request.body = options.body;
  return request;
}

function cseqNumberOf(request: OutgoingRequest): string {
  return (findHeader(request.headers, 'CSeq') ?? '').trim().split(/\s+/)[0] ?? '';
}

function derived(request: OutgoingRequest, method: string, to: string): OutgoingRequest {
  const headers: HeaderField[] = [['Via', findHeader(request.headers, 'Via') ?? '']];
  for (const route of findHeaders(request.headers, 'Route')) headers.push(['Route', route]);
  headers.push(
    ['Max-Forwards', '70'],
    ['From', findHeader(request.headers, 'From') ?? ''],
    ['To', to],
    ['Call-ID', findHeader(request.headers, 'Call-ID') ?? ''],
    ['CSeq', `${cseqNumberOf(request)} ${method}`],
  );
  return { method, uri: request.uri, headers };
}

/**
 * The ACK for a non-2xx final response (RFC 3261 §17.1.1.3): Request-URI,
 * Call-ID, From, CSeq number, top Via and Route of the INVITE as sent; To
 * from the response.
 * @param invite    the INVITE as sent (its first Via is the one the transaction added)
 * @param response  the 3xx-6xx response
 */
export function createAckForFailure(invite: OutgoingRequest, response: MessageView): OutgoingRequest {
  return derived(invite, 'ACK', response.header('To') ?? findHeader(invite.headers, 'To') ?? '');
}

/**
 * The CANCEL of a request (RFC 3261 §9.1): same Request-URI, Call-ID, From,
 * To, CSeq number, top Via and Route as the request as sent.
 * @param request  the request as sent (its first Via is the one the transaction added)
 * @param headers  extra headers (for example Reason, RFC 3326)
 */
export function createCancel(request: OutgoingRequest, headers: HeaderField[] = []): OutgoingRequest {
  const cancel = derived(request, 'CANCEL', findHeader(request.headers, 'To') ?? '');
  cancel.headers.push(...headers);
  return cancel;
}
