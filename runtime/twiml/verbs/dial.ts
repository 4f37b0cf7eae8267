/**
 * `<Dial>` verb: attributes with defaults and ranges, nouns, callerId rules
 * (Twilio's `<Dial>` page: https://www.twilio.com/docs/voice/twiml/dial).
 */
import { Attrs, PARSE_FAILURE, SCHEMA_WARNING, issue, textOf, type ParseContext, type TwimlElement } from '../element.js';
import type { DialNoun, DialOpts, DialRecord, Result, TwimlError } from '../types.js';
import { DIAL_NOUNS, MAX_NOUNS, UNSUPPORTED_NOUNS } from './dial/nouns.js';
import * as number from './dial/number.js';

/** Ring tones Twilio accepts (§1.2). */
export const RING_TONES = [
  'at', 'au', 'bg', 'br', 'be', 'ch', 'cl', 'cn', 'cz', 'de', 'dk', 'ee', 'es', 'fi', 'fr', 'gr', 'hu',
  'il', 'in', 'it', 'lt', 'jp', 'mx', 'my', 'nl', 'no', 'nz', 'ph', 'pl', 'pt', 'ru', 'se', 'sg', 'th',
  'uk', 'us', 'us-old', 'tw', 've', 'za',
] as const;

const RECORD = [
  'do-not-record', 'record-from-answer', 'record-from-ringing',
  'record-from-answer-dual', 'record-from-ringing-dual', 'true', 'false',
] as const;

/** callerId for SIP: letters, digits and + - _ . , only (an optional `client:` prefix for Client). */
const CALLER_ID = /^(client:)?[A-Za-z0-9+\-_.,]+$/;
/** Longest callerId accepted (longer → 13248). */
const CALLER_ID_MAX = 128;

/** Nested element not allowed in `<Dial>`. */
export const INVALID_NESTED = 13215;
/** Too many nouns in one `<Dial>`. */
export const TOO_MANY_NOUNS = 13250;

function readCallerId(a: Attrs): string | undefined {
  const raw = a.str('callerId');
  if (raw === undefined) return undefined;
  if (raw.length > CALLER_ID_MAX) {
    a.warn(13248, `<Dial> callerId is longer than ${CALLER_ID_MAX} characters; using the caller's ID`);
    return undefined;
  }
  if (!CALLER_ID.test(raw)) {
    a.warn(13214, `<Dial> callerId="${raw}" may only hold letters, digits and + - _ . , ; using the caller's ID`);
    return undefined;
  }
  return raw;
}

function readRecord(a: Attrs): DialRecord {
  const raw = a.oneOf('record', RECORD, 'do-not-record', 13217);
  const record: DialRecord = raw === 'true' ? 'record-from-answer' : raw === 'false' ? 'do-not-record' : raw;
  if (record !== 'do-not-record') a.warn(SCHEMA_WARNING, `<Dial> record="${record}" is unsupported without media; not recording`);
  return record;
}

function readNouns(el: TwimlElement, ctx: ParseContext): Result<DialNoun[], TwimlError> {
  const nouns: DialNoun[] = [];
  const text = textOf(el);
  const dialable = el.children.filter((c) => DIAL_NOUNS[c.name] !== undefined);
  if (text !== '') {
    if (dialable.length > 0) {
      ctx.warnings.push(issue(el, SCHEMA_WARNING, `<Dial> text "${text}" next to nouns is ignored`));
    } else {
      const n = number.fromText(el, text);
      if (!n.ok) return n;
      nouns.push(n.value);
    }
  }
  if (dialable.length > MAX_NOUNS) {
    return {
      ok: false,
      error: issue(el, TOO_MANY_NOUNS, `<Dial> has ${dialable.length} nouns; at most ${MAX_NOUNS} are allowed`),
    };
  }
  for (const child of el.children) {
    const mod = DIAL_NOUNS[child.name];
    if (mod !== undefined) {
      const r = mod.parse(child, ctx);
      if (!r.ok) return r;
      nouns.push(r.value);
    } else if (UNSUPPORTED_NOUNS.includes(child.name)) {
      ctx.warnings.push(issue(child, INVALID_NESTED, `<Dial><${child.name}> is unsupported by this gateway; skipped`));
    } else {
      return { ok: false, error: issue(child, INVALID_NESTED, `<${child.name}> is not allowed inside <Dial>`) };
    }
  }
  if (nouns.length === 0) return { ok: false, error: issue(el, PARSE_FAILURE, '<Dial> has no target to dial') };
  return { ok: true, value: nouns };
}

/** Parse a `<Dial>` element. */
export function parse(el: TwimlElement, ctx: ParseContext): Result<DialOpts, TwimlError> {
  const nouns = readNouns(el, ctx);
  if (!nouns.ok) return nouns;
  const a = new Attrs(el, ctx);
  const value: DialOpts = {
    method: a.method('method', 13210),
    timeout: a.int('timeout', 30, 5, 600, 13212),
    timeLimit: a.int('timeLimit', 14400, 1, 86400, 13216),
    hangupOnStar: a.bool('hangupOnStar', false, 13213),
    answerOnBridge: a.bool('answerOnBridge', false, 13219),
    record: readRecord(a),
    trim: a.oneOf('trim', ['trim-silence', 'do-not-trim'] as const, 'do-not-trim', SCHEMA_WARNING),
    recordingStatusCallbackMethod: a.method('recordingStatusCallbackMethod', SCHEMA_WARNING),
    recordingStatusCallbackEvent:
      a.list('recordingStatusCallbackEvent', ['in-progress', 'completed', 'absent'] as const, 13621) ?? ['completed'],
    recordingTrack: a.oneOf('recordingTrack', ['inbound', 'outbound', 'both'] as const, 'both', SCHEMA_WARNING),
    referMethod: a.method('referMethod', SCHEMA_WARNING),
    sequential: a.bool('sequential', false, 13218),
    nouns: nouns.value,
  };
  const callerId = readCallerId(a);
  if (callerId !== undefined) value.callerId = callerId;
  const ringTone = a.oneOf('ringTone', RING_TONES, undefined, 13220);
  if (ringTone !== undefined) value.ringTone = ringTone;
  for (const key of ['action', 'referUrl', 'recordingStatusCallback'] as const) {
    const v = a.str(key);
    if (v !== undefined) value[key] = v.trim();
  }
  a.accept('recordingConfigurationId', 'callReason', 'events');
  a.finish();
  return { ok: true, value };
}
