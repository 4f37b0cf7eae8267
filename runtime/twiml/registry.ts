/**
 * Static registry: TwiML verb tag → parser module (no dynamic loading), and
 * the media verbs that are recognised but unsupported.
 */
import type { ParseContext, TwimlElement } from './element.js';
import type { Result, TwimlError, Verb } from './types.js';
import * as dial from './verbs/dial.js';
import * as hangup from './verbs/hangup.js';
import * as pause from './verbs/pause.js';
import * as redirect from './verbs/redirect.js';
import * as reject from './verbs/reject.js';

export { DIAL_NOUNS, UNSUPPORTED_NOUNS, MAX_NOUNS } from './verbs/dial/nouns.js';

/** A verb parser bound to its tag: yields the Verb with its kind. */
export interface VerbEntry {
  kind: Exclude<Verb['kind'], 'unsupported'>;
  parse(el: TwimlElement, ctx: ParseContext): Result<Verb, TwimlError>;
}

type VerbModule<O> = { parse(el: TwimlElement, ctx: ParseContext): Result<O, TwimlError> };

function entry<O extends object>(kind: VerbEntry['kind'], mod: VerbModule<O>): VerbEntry {
  return {
    kind,
    parse(el, ctx) {
      const r = mod.parse(el, ctx);
      return r.ok ? { ok: true, value: { kind, ...r.value } as Verb } : r;
    },
  };
}

/** Supported verbs by tag. */
export const VERBS: Readonly<Record<string, VerbEntry>> = {
  Dial: entry('dial', dial),
  Hangup: entry('hangup', hangup),
  Reject: entry('reject', reject),
  Redirect: entry('redirect', redirect),
  Pause: entry('pause', pause),
};

/** Twilio voice verbs that need media or services this gateway lacks: kept as unsupported. */
export const UNSUPPORTED_VERBS: readonly string[] = [
  'Say', 'Play', 'Gather', 'Record', 'Conference', 'Queue', 'Enqueue', 'Leave', 'Refer', 'Sms',
  'Message', 'Echo', 'Connect', 'Stream', 'Start', 'Stop', 'Pay', 'Prompt', 'Siprec', 'Transcription',
];
