/** `<Hangup>`: the document ends; the host hangs up (or, screening, declines the leg). */
import type { Verb } from '../../twiml/types.js';
import { END, type VerbHost, type VerbOutcome } from './verb.js';

export function hangup<N>(_verb: Extract<Verb, { kind: 'hangup' }>, host: VerbHost<N>): VerbOutcome<N> {
  host.hangup();
  return END;
}
