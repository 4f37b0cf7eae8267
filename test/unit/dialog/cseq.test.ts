/** In-dialog CSeq checks (RFC 3261 §12.2.2 ordering, §8.1.1.5 range). */
import { describe, it, expect } from 'vitest';
import { Dialog } from '../../../runtime/dialog/dialog.js';

function dialog(remoteSeq: number): Dialog {
  return new Dialog({
    callId: 'c1', localTag: 'ours', remoteTag: 'theirs', localUri: '<sip:patchbay@127.0.0.1>', remoteUri: '<sip:caller@127.0.0.1>',
    localSeq: 0, remoteSeq, remoteTarget: 'sip:caller@127.0.0.1:5070', routeSet: [], via: { transport: 'udp', host: '127.0.0.1', port: 5070 },
  });
}

describe('in-dialog CSeq', () => {
  it('refuses a lower CSeq (out of order) and takes a higher one', () => {
    const d = dialog(5);
    expect(d.acceptRemoteSeq(4, 'INFO')).toBe(false);
    expect(d.acceptRemoteSeq(6, 'INFO')).toBe(true);
  });

  it('refuses a CSeq of 2^31 or more without remembering it, so the caller can still hang up (a fuzzed INFO with 4294967295 made every later BYE a 500)', () => {
    const d = dialog(1);
    expect(d.acceptRemoteSeq(4294967295, 'INFO')).toBe(false);
    expect(d.acceptRemoteSeq(2 ** 31, 'INFO')).toBe(false);
    expect(d.acceptRemoteSeq(2, 'BYE')).toBe(true);
    expect(d.acceptRemoteSeq(2 ** 31 - 1, 'INFO')).toBe(true);
  });
});
