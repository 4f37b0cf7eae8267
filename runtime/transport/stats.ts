/**
 * Counters of the transport layer for metrics: messages in and out by
 * method (requests) and status code (responses), keep-alives, parse errors
 * by ABI error name, send failures by error code. Methods are counted by
 * `methodLabel` (unregistered ones as `other`), so the number of counters
 * stays bounded whatever methods arrive.
 */

import { methodLabel } from '../sip/methods.js';
import type { ReceiveBatchStats } from './batch-options.js';
import type { ConnectionStats } from './stream-admission.js';

/** Messages in one direction. */
export interface DirectionCounts {
  /** Requests by method (registered methods, the rest as `other`). */
  requests: Record<string, number>;
  /** Responses by status code. */
  responses: Record<string, number>;
  /** Keep-alives (RFC 5626 pings in, pongs out). */
  keepAlives: number;
}

/** A snapshot of the transport layer's counters. */
export interface TransportStats {
  in: DirectionCounts;
  out: DirectionCounts;
  /** Inbound messages that did not parse, by ABI error name (E_*), plus PB_ERR_VIA for unreadable Vias and PB_ERR_ESCAPED_CTL for a control character escaped in a quoted-string (refused though valid). */
  parseErrors: Record<string, number>;
  /** Failed sends, by TransportError code. */
  sendErrors: Record<string, number>;
  /** Refused messages sent no stateless answer, by reason (error-response.ts `Unanswered`: unsafe-header, missing-header, ack, not-a-request). */
  unanswered: Record<string, number>;
  /** Batching of received datagrams, when a pooled parse engine is in use. */
  batching?: ReceiveBatchStats;
  /** Inbound connections of the stream transports, by protocol (summed over listeners). */
  connections?: Partial<Record<'tcp' | 'tls', ConnectionStats>>;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

class Direction {
  requests = new Map<string, number>();
  responses = new Map<string, number>();
  keepAlives = 0;

  snapshot(): DirectionCounts {
    return { requests: Object.fromEntries(this.requests), responses: Object.fromEntries(this.responses), keepAlives: this.keepAlives };
  }
}

/** Mutable counters; `snapshot()` copies them. */
export class TransportCounters {
  /** Inbound. */
  readonly in = new Direction();
  /** Outbound. */
  readonly out = new Direction();
  #parseErrors = new Map<string, number>();
  #sendErrors = new Map<string, number>();
  #unanswered = new Map<string, number>();

  /** Count an inbound request or response. */
  countIn(method: string | undefined, status: number): void {
    if (method !== undefined) bump(this.in.requests, methodLabel(method));
    else bump(this.in.responses, String(status));
  }

  /**
   * Count an outbound message from its first bytes: `SIP/2.0 NNN` is a
   * response, CRLF a keep-alive pong, anything else a request whose method
   * ends at the first space.
   */
  countOut(bytes: Uint8Array): void {
    if (bytes[0] === 0x0d) {
      this.out.keepAlives++;
      return;
    }
    if (bytes.length >= 12 && bytes[0] === 0x53 && bytes[1] === 0x49 && bytes[2] === 0x50 && bytes[3] === 0x2f) {
      bump(this.out.responses, String.fromCharCode(bytes[8]!, bytes[9]!, bytes[10]!));
      return;
    }
    let end = 0;
    while (end < bytes.length && end < 32 && bytes[end] !== 0x20) end++;
    bump(this.out.requests, methodLabel(String.fromCharCode(...bytes.subarray(0, end))));
  }

  /** Count a parse error. */
  countParseError(name: string): void {
    bump(this.#parseErrors, name);
  }

  /** Count a refused message that gets no answer, by reason. */
  countUnanswered(reason: string): void {
    bump(this.#unanswered, reason);
  }

  /** Count a failed send. */
  countSendError(code: string): void {
    bump(this.#sendErrors, code);
  }

  /** @return a copy of every counter. */
  snapshot(): TransportStats {
    return {
      in: this.in.snapshot(), out: this.out.snapshot(),
      parseErrors: Object.fromEntries(this.#parseErrors), sendErrors: Object.fromEntries(this.#sendErrors),
      unanswered: Object.fromEntries(this.#unanswered),
    };
  }
}
