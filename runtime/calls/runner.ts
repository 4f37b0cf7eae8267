/**
 * The verb runner: carries out a TwiML document's verbs in order, each by
 * its executor (verbs/, one file per verb as twiml/verbs/ has one parser
 * per verb), on a VerbHost: the caller's session, or an answered dial leg
 * whose screening document runs before it is connected. A verb either lets
 * the next one run or ends the document, saying which document (if any)
 * follows; the host stopping (the call ended, got new TwiML, the screened
 * leg hung up) ends it before the next verb.
 */
import type { Verb } from '../twiml/types.js';
import { EXECUTORS } from './verbs/index.js';
import type { VerbExecutor, VerbHost } from './verbs/verb.js';

export { CONTINUE, END, type VerbHost, type VerbOutcome } from './verbs/verb.js';

/**
 * Run `verbs` on `host`; resolves with the document that follows (a
 * Redirect's, a Dial's action) or undefined when the document ended or the
 * host stopped. A verb that finishes at once is not awaited: the next one
 * runs in the same turn, as it would in a plain loop.
 */
export async function runVerbs<N>(verbs: readonly Verb[], host: VerbHost<N>): Promise<N | undefined> {
  for (const verb of verbs) {
    if (host.stopped) return undefined;
    const executor = EXECUTORS[verb.kind] as VerbExecutor<Verb['kind']>;
    const r = executor(verb, host);
    const outcome = r instanceof Promise ? await r : r;
    if (outcome.done) return outcome.next;
  }
  return undefined;
}
