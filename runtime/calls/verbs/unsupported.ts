/**
 * A verb this gateway does not carry out yet (media verbs: `<Say>`,
 * `<Play>`, `<Gather>`…). The parser reported it when the document was read
 * (warning 12200, "Schema validation warning", on the call); it is skipped
 * and the next verb runs.
 */
import type { Verb } from '../../twiml/types.js';
import { CONTINUE, type VerbHost, type VerbOutcome } from './verb.js';

export function unsupported<N>(_verb: Extract<Verb, { kind: 'unsupported' }>, _host: VerbHost<N>): VerbOutcome<N> {
  return CONTINUE;
}
