/**
 * `<Dial>` (Twilio's TwiML Voice `<Dial>` page): the host carries it out
 * (the caller's session runs a DialRun, calls/dial.ts, then goes on with
 * its `action`; screening refuses it) and says what follows.
 */
import type { Verb } from '../../twiml/types.js';
import type { VerbHost, VerbOutcome } from './verb.js';

export function dial<N>(verb: Extract<Verb, { kind: 'dial' }>, host: VerbHost<N>): Promise<VerbOutcome<N>> {
  return host.dial(verb);
}
