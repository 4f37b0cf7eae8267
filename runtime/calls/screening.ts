/**
 * Call screening (`url` on a `<Dial>` noun, https://www.twilio.com/docs/voice/twiml/sip): the
 * answered child runs TwiML before it is connected. `<Hangup>`/`<Reject>`
 * decline it; `<Dial>` is refused (13201); `<Pause>` waits; `<Redirect>`
 * follows (10 documents at most); reaching the end connects it.
 */
import type { Verb } from '../twiml/types.js';
import type { ChildLeg } from './child.js';
import type { CallContext } from './context.js';
import type { Params } from './params.js';
import type { CallRecord } from './record.js';
import { END, runVerbs, type VerbHost } from './runner.js';

/** Cannot `<Dial>` from a child's screening TwiML. */
const DIAL_IN_SCREENING = 13201;

/** What screening needs from the call. */
export interface ScreeningHost {
  ctx: CallContext;
  ended(): boolean;
  resolve(url: string): string;
  fetch(url: string, method: 'GET' | 'POST', params: Params | undefined, call: CallRecord): Promise<{ ok: true; verbs: Verb[] } | { ok: false; code: number; message: string } | undefined>;
  sleep(ms: number): Promise<void>;
}

/** Where the next screening document comes from. */
interface ScreeningSource {
  url: string;
  method: 'GET' | 'POST';
  params: Params;
}

/** Screening: run `url`'s TwiML for the child; `<Hangup>`/`<Reject>` decline it, `<Dial>` is refused (13201). */
export async function screenChild(host: ScreeningHost, child: ChildLeg, url: string, method: 'GET' | 'POST'): Promise<boolean> {
  const extra: Params = child.answeredParams();
  let declined = false;
  const verbHost: VerbHost<ScreeningSource> = {
    get stopped() { return !child.live || host.ended(); },
    resolve: (u) => host.resolve(u),
    sleep: (ms) => host.sleep(ms),
    hangup: () => { declined = true; },
    reject: () => { declined = true; },
    redirect: (u, m) => ({ url: u, method: m, params: extra }),
    dial: () => {
      host.ctx.alert(child.sid, 'error', DIAL_IN_SCREENING, `${url}: <Dial> is not allowed in the screening TwiML of a dialled party`);
      declined = true;
      return Promise.resolve(END);
    },
  };
  let source: ScreeningSource | undefined = { url, method, params: extra };
  for (let n = 0; source && n < 10; n++) {
    const doc: { ok: true; verbs: Verb[] } | { ok: false; code: number; message: string } | undefined = await host.fetch(source.url, source.method, source.params, child.record);
    if (!doc || !doc.ok) return false;
    source = await runVerbs(doc.verbs, verbHost);
    if (declined) return false;
  }
  return child.live && !host.ended();
}
