/** `<Reject>`: the host refuses the call (486 busy, 603 rejected) and the document ends. */
import type { Verb } from '../../twiml/types.js';
import { END, type VerbHost, type VerbOutcome } from './verb.js';

export function reject<N>(verb: Extract<Verb, { kind: 'reject' }>, host: VerbHost<N>): VerbOutcome<N> {
  host.reject(verb.reason);
  return END;
}
