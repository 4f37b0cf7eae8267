/** `<Pause length>`: wait `length` seconds on the call's clock, then the next verb. */
import type { Verb } from '../../twiml/types.js';
import { CONTINUE, type VerbHost, type VerbOutcome } from './verb.js';

export async function pause<N>(verb: Extract<Verb, { kind: 'pause' }>, host: VerbHost<N>): Promise<VerbOutcome<N>> {
  await host.sleep(verb.length * 1000);
  return CONTINUE;
}
