/**
 * The screen every new request passes before it gets a server transaction
 * (TransactionLayer.onScreen): the per-source rate limit first, then the
 * admission of out-of-dialog INVITEs. Refusals and challenges are answered
 * statelessly, as RFC 3261 §8.2.7 has a UAS do for unauthenticated
 * requests: one response per request received, never retransmitted, no
 * transaction kept, the ACK for it absorbed as one that matches nothing.
 * Without that, every 401 was retransmitted by Timer G until Timer H
 * (about 11 datagrams per INVITE, sent to whatever source address the
 * INVITE claimed) and held a transaction for 32 s.
 */
import { createHash } from 'node:crypto';
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField, OutgoingResponse } from '../sip/message.js';
import { createResponse } from '../sip/build.js';
import type { Source } from '../transport/transport.js';
import type { RequestScreen } from '../transaction/layer.js';
import type { AdmissionPolicy } from './admission.js';
import type { SourceRateLimiter } from './rate-limit.js';

/** What the screen works with. */
export interface ScreenOptions {
  admission: AdmissionPolicy;
  limiter: SourceRateLimiter;
  /** True while the daemon drains: INVITEs go on to the handler, which answers 503 itself. */
  draining: () => boolean;
  /** Told about each refused INVITE (log it, throttled). */
  onRefused?: (source: Source, status: number, reason: string) => void;
}

/**
 * A To tag computed from the request, so that a retransmission gets the same
 * one (RFC 3261 §8.2.7: a stateless UAS generates tags "in a stateless
 * manner"): a hash of Call-ID, From tag, CSeq and the top Via branch.
 */
export function statelessToTag(request: MessageView): string {
  return createHash('sha256')
    .update(`${request.callId ?? ''}\0${request.fromTag ?? ''}\0${request.header('CSeq') ?? ''}\0${request.branch ?? ''}`)
    .digest('base64url')
    .slice(0, 16);
}

/** A response to send statelessly: the request's To gets a stateless tag. */
export function statelessResponse(request: MessageView, status: number, headers: HeaderField[] = [], reason?: string): OutgoingResponse {
  return createResponse(request, status, reason, { toTag: statelessToTag(request), headers });
}

/** @return the screen for `TransactionLayer.onScreen`. */
export function createRequestScreen(options: ScreenOptions): RequestScreen {
  const { admission, limiter } = options;
  return (request, source) => {
    const method = request.method ?? '';
    const limit = limiter.check(source.host, method);
    if (limit.kind === 'drop') return 'drop';
    if (limit.kind === 'reject') return statelessResponse(request, 503, [['Retry-After', String(limit.retryAfterSeconds)]]);
    // in-dialog requests belong to an admitted call; draining INVITEs get the handler's 503
    if (method !== 'INVITE' || (request.toTag ?? '') !== '' || options.draining()) return 'pass';
    const decision = admission.decide({
      sourceIp: source.host, method, uri: request.requestUri ?? '', authorization: request.headers('Authorization'),
    });
    switch (decision.kind) {
      case 'admit':
        return 'pass';
      case 'challenge':
        return statelessResponse(request, 401, decision.headers.map(([name, value]): HeaderField => [name, value]));
      case 'locked':
        options.onRefused?.(source, decision.status, decision.reason);
        return statelessResponse(request, 503, [['Retry-After', String(decision.retryAfterSeconds)]]);
      default:
        options.onRefused?.(source, decision.status, decision.reason);
        return statelessResponse(request, 403);
    }
  };
}
