/**
 * Webhook parameters of a call (SPEC-DETAIL.md §4.1, §2.3, §3): the
 * standard voice parameters, the SIP ones and the Timestamp format.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { CallRecord } from './record.js';

/** Twilio's API version, sent as ApiVersion and X-Twilio-ApiVersion. */
export const API_VERSION = '2010-04-01';

/** Mutable parameter bag (the webhook client takes it read-only). */
export type Params = Record<string, string>;

/** The standard voice parameters of `call` (Caller/Called duplicate From/To). */
export function callParams(call: CallRecord): Params {
  const p: Params = {
    CallSid: call.sid,
    AccountSid: call.accountSid,
    From: call.from,
    To: call.to,
    Caller: call.from,
    Called: call.to,
    CallStatus: call.status,
    ApiVersion: API_VERSION,
    Direction: call.direction,
  };
  if (call.parentCallSid !== undefined) p.ParentCallSid = call.parentCallSid;
  return p;
}

/** `SipHeader_<name>` (or another prefix) for every X- header of `message`, names as received. */
export function xHeaderParams(message: MessageView | undefined, prefix: string): Params {
  const p: Params = {};
  if (!message) return p;
  for (let i = 0; i < message.headerCount; i++) {
    const name = message.headerName(i);
    if (/^x-/i.test(name)) p[`${prefix}${name}`] = message.valueAt(i) ?? '';
  }
  return p;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 2822 date in UTC as Twilio writes it: `Fri, 20 Aug 2010 01:13:42 +0000`. */
export function rfc2822(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** The host of a SIP URI (`sip:bob@example.com:5060;x` → `example.com`). */
export function sipHost(uri: string): string {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?>]+)/i.exec(uri.trim());
  return m ? m[1]! : '';
}

/** The user part of a SIP URI, or undefined. */
export function sipUser(uri: string): string | undefined {
  const m = /^sips?:([^@;?]+)@/i.exec(uri.trim());
  return m ? m[1] : undefined;
}
