/** `<Redirect>`: the document ends; the one at `url` (relative to the running one) follows. */
import type { Verb } from '../../twiml/types.js';
import type { VerbHost, VerbOutcome } from './verb.js';

export function redirect<N>(verb: Extract<Verb, { kind: 'redirect' }>, host: VerbHost<N>): VerbOutcome<N> {
  return { done: true, next: host.redirect(host.resolve(verb.url), verb.method) };
}
