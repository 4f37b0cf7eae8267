/**
 * What a transfer (transfer.ts) is given by the call it runs on: the
 * call's webhook fetches, its event stream and log, the REFER parser, and
 * the call's two ways of handing the caller over.
 */
import type { Verb } from '../twiml/types.js';
import type { CallContext } from './context.js';
import type { Fetched } from './documents.js';
import type { Params } from './params.js';
import { readReferTo, type TransferHost } from './transfer.js';

/** The call's part of a TransferHost. */
export interface TransferCall {
  /** Fetch a document for the call (a relative URL resolves against the running one). */
  fetch(url: string, method: 'GET' | 'POST', params: Params): Promise<Fetched>;
  takeOver: TransferHost['takeOver'];
  dialWhileBridged: TransferHost['dialWhileBridged'];
}

/** The TransferHost of call `sid`. */
export function transferHostFor(ctx: CallContext, sid: string, call: TransferCall): TransferHost {
  return {
    callSid: sid, notifyWaitMs: 4 * ctx.transactions.timers.T1, clock: ctx.clock,
    alert: (level, code, message) => ctx.alert(sid, level, code, message),
    fetchTwiml: async (url, method, params): Promise<Verb[] | undefined> => {
      const r = await call.fetch(url, method, params).catch(() => undefined);
      return r && r.ok ? r.verbs : undefined;
    },
    referTo: (request) => readReferTo(ctx.parser, request),
    takeOver: call.takeOver,
    dialWhileBridged: call.dialWhileBridged,
    emit: (stage, target, detail) => {
      ctx.store.emit({ type: 'transfer', at: Date.now(), callSid: sid, stage, target, detail });
      if (stage === 'completed' || stage === 'failed') ctx.log.info(`transfer ${stage}`, { callSid: sid, target, detail });
    },
  };
}
