/**
 * Finished calls do not stay in memory through the transactions' long
 * tails: an INVITE server transaction lives 64×T1 after its 2xx (Timer L)
 * and an INVITE client transaction as long (Timer M), but once the final
 * response is sent (server) or the leg is over (client) they let go of the
 * TU's listeners, and with them of the call. Checked with the real garbage
 * collector: an object only those listeners reach must be collected while
 * the transaction is still alive.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { ServerTx } from '../../../runtime/transaction/server-tx.js';
import { UacLeg } from '../../../runtime/dialog/uac-leg.js';
import { loopPair, testRequest } from '../../support/sip-stack.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collect garbage once the current job (which keeps fresh WeakRef targets alive) is over. */
async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

describe('transactions in their tails hold no call state', () => {
  it('an INVITE server transaction drops its cancel listener once its final response is sent', async () => {
    const { clock, uac, uas } = await loopPair();
    let stx: ServerTx | undefined;
    let call: WeakRef<object> | undefined;
    uas.tx.onRequest((tx) => {
      const state = { payload: new Uint8Array(1 << 20) };
      call = new WeakRef(state);
      tx.on('cancel', () => { state.payload.fill(0); });
      tx.respond(tx.createResponse(200, undefined, { toTag: 'callee' }));
      stx = tx;
    });
    uac.tx.request(testRequest('INVITE'), uas.address);
    await clock.flush();
    expect(stx!.state).toBe('accepted');
    await collect();
    expect(stx!.state).toBe('accepted');
    expect(call!.deref()).toBeUndefined();
    uac.tx.close();
    uas.tx.close();
  });

  it('an answered UAC leg that hung up no longer holds its listeners while its INVITE transaction waits out Timer M', async () => {
    const { clock, uac, uas } = await loopPair();
    uas.tx.onRequest((tx) => { tx.respond(tx.createResponse(200, undefined, { toTag: 'callee' })); });
    let call: WeakRef<object> | undefined;
    let answered = 0;
    const leg = ((): UacLeg => {
      const state = { payload: new Uint8Array(1 << 20) };
      call = new WeakRef(state);
      return new UacLeg(
        { transactions: uac.tx, transport: uac.layer, contact: '<sip:alice@127.0.0.1:5070>' },
        testRequest('INVITE'),
        uas.address,
        { provisional: () => { state.payload.fill(1); }, answered: () => { answered++; }, failed: () => { state.payload.fill(2); } },
      );
    })();
    leg.start();
    await clock.flush();
    expect(answered).toBe(1);
    await leg.bye();
    expect(uac.tx.stats().clientTx).toBeGreaterThan(0); // the INVITE's, in Timer M
    await collect();
    expect(call!.deref()).toBeUndefined();
    uac.tx.close();
    uas.tx.close();
  });
});
