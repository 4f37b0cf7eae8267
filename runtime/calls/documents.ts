/**
 * A call's TwiML documents: fetched from the webhook (the fallback URL
 * tried when the first fetch fails) or given inline, parsed and validated
 * (errors and warnings become alerts on the call), counted (a `<Redirect>`
 * loop ends after MAX_DOCUMENTS), and the URL of the running one kept:
 * relative URLs in it resolve against it, as Twilio does.
 */
import type { DialOpts, Verb } from '../twiml/types.js';
import type { DialResult } from './dial.js';
import type { CallContext } from './context.js';
import { callParams, type Params } from './params.js';
import type { CallRecord } from './record.js';

/** Most documents one call may fetch (Redirect loops end here). */
const MAX_DOCUMENTS = 100;
/** Document parse failure. */
const PARSE_FAILURE = 12100;

/** The verb loop stops early (the call ended while a webhook was in flight). */
export class Interrupted extends Error {}

/** A fetched document's verbs, or why there are none (the Twilio error code the call fails with). */
export type Fetched = { ok: true; verbs: Verb[] } | { ok: false; code: number; message: string };
/** Like Fetched; a failure without a code is invalid inline TwiML (alerted already: the call just ends). */
export type Loaded = Fetched | { ok: false; code: undefined };

/** Where a document comes from. */
export type DocumentSource =
  | { url: string; method: 'GET' | 'POST'; params?: Params; fallback?: { url: string; method: 'GET' | 'POST' } }
  | { twiml: string }
  | { verbs: Verb[] };

/** A Dial already running (a transfer's) whose outcome the call continues from. */
export interface PendingDial {
  run: Promise<DialResult>;
  opts: DialOpts;
}

/** Where a call's next document comes from. */
export type TwimlSource =
  | { url: string; method: 'GET' | 'POST'; params?: Params; fallback?: { url: string; method: 'GET' | 'POST' } }
  | { twiml: string }
  /** Verbs already fetched (a transfer's document), after the outcome of `pending`. */
  | { verbs: Verb[]; pending?: PendingDial };

/** The documents of one call. */
export class CallDocuments {
  #ctx: CallContext;
  #record: CallRecord;
  #ended: () => boolean;
  #count = 0;
  /** URL of the running document (undefined for inline TwiML). */
  base: string | undefined;

  /** @param ended  true once the call is over: a fetch that comes back then throws Interrupted */
  constructor(ctx: CallContext, record: CallRecord, ended: () => boolean) {
    this.#ctx = ctx;
    this.#record = record;
    this.#ended = ended;
  }

  /** Fetch and parse a document (with the fallback URL on failure). @throws Interrupted */
  async load(source: DocumentSource): Promise<Loaded> {
    if (++this.#count > MAX_DOCUMENTS) return { ok: false, code: 11215, message: `more than ${MAX_DOCUMENTS} TwiML documents for one call (a <Redirect> loop?)` };
    if ('verbs' in source) return { ok: true, verbs: source.verbs };
    if ('twiml' in source) {
      const verbs = this.parse(source.twiml, 'inline TwiML', this.#record.sid);
      return verbs ? { ok: true, verbs } : { ok: false, code: undefined };
    }
    const first = await this.fetch(source.url, source.method, source.params);
    if (first.ok || !source.fallback) return first;
    return this.fetch(source.fallback.url, source.fallback.method, { ...source.params, ErrorCode: String(first.code), ErrorUrl: source.url });
  }

  /** Fetch and parse one document for `call` (this call, or a child being screened). @throws Interrupted */
  async fetch(url: string, method: 'GET' | 'POST', extra: Params | undefined, call: CallRecord = this.#record): Promise<Fetched> {
    const params = callParams(call, extra);
    const r = await this.#ctx.webhooks.request({ url, method, params });
    if (this.#ended()) throw new Interrupted();
    if (r.ok && call === this.#record) this.base = r.value.url;
    if (!r.ok) {
      this.#ctx.alert(call.sid, 'error', r.error.twilioCode, r.error.message);
      return { ok: false, code: 11200, message: `${url}: ${r.error.message}` };
    }
    const verbs = this.parse(r.value.body, url, call.sid);
    return verbs ? { ok: true, verbs } : { ok: false, code: PARSE_FAILURE, message: `${url}: invalid TwiML` };
  }

  /** Parse and validate a document; its errors and warnings become alerts on call `sid`. */
  parse(xml: string, where: string, sid: string): Verb[] | undefined {
    const doc = this.#ctx.parseTwiml(xml);
    if (!doc.ok) {
      this.#ctx.alert(sid, 'error', doc.error.code, `${where}: ${doc.error.path}: ${doc.error.message}`);
      return undefined;
    }
    for (const w of doc.value.warnings) this.#ctx.alert(sid, 'warning', w.code, `${where}: ${w.path}: ${w.message}`);
    return doc.value.verbs;
  }
}
