import { afterEach, describe, expect, it } from 'vitest';
import { ChildLeg, type ChildEvents } from '../../../runtime/calls/child.js';
import type { ResolvedTarget } from '../../../runtime/calls/targets.js';
import type { CallContext } from '../../../runtime/calls/context.js';
import type { CallRecord } from '../../../runtime/calls/record.js';
import { CallStore } from '../../../runtime/calls/store.js';
import { LiveCalls } from '../../../runtime/calls/live.js';
import { defaultConfig } from '../../../runtime/config.js';
import { DialogRegistry, type DialogHandler } from '../../../runtime/dialog/registry.js';
import { createLogger } from '../../../runtime/log.js';
import { cachedTwimlParser } from '../../../runtime/twiml/cache.js';
import { parseTwiml } from '../../../runtime/twiml/parse.js';
import { createWebhookClient } from '../../../runtime/webhooks/client.js';
import { LoopNetwork } from '../../../runtime/transport/loop.js';
import { FakeClock } from '../../support/fake-clock.js';
import { loopStack, startLine, type LoopStack } from '../../support/sip-stack.js';
import { parserFor } from '../../support/wasm.js';

interface Rig {
  ctx: CallContext;
  stack: LoopStack;
  alerts: Array<{ level: string; code: number; message: string }>;
}

const stacks: LoopStack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.layer.close();
});

async function rig(): Promise<Rig> {
  const clock = new FakeClock();
  const network = new LoopNetwork({ clock });
  const stack = await loopStack(network, { port: 5070 });
  stacks.push(stack);
  const alerts: Rig['alerts'] = [];
  const config = defaultConfig().twiml;
  const ctx: CallContext = {
    transactions: stack.tx, transport: stack.layer, clock, registry: new DialogRegistry<DialogHandler>(),
    contactFor: () => '<sip:patchbay@127.0.0.1:5070>', store: new CallStore(),
    webhooks: createWebhookClient({ accountSid: config.accountSid, authToken: 'token' }),
    parser: parserFor('release'), parseTwiml: cachedTwimlParser((xml) => parseTwiml(xml)), config,
    log: createLogger('error', 'test', () => undefined),
    alert: (_sid, level, code, message) => alerts.push({ level, code, message }),
    live: new LiveCalls(),
  };
  return { ctx, stack, alerts };
}

const parent: CallRecord = {
  sid: 'CA' + '1'.repeat(32), accountSid: 'AC' + '0'.repeat(32), direction: 'inbound', from: 'sip:alice@127.0.0.1',
  to: 'sip:patchbay@127.0.0.1', status: 'in-progress', dateCreated: 0, dateUpdated: 0,
};

function target(headers: ResolvedTarget['headers']): ResolvedTarget {
  return { uri: 'sip:bob@127.0.0.1:5080', headers, destination: { transport: 'udp', host: '127.0.0.1', port: 5080 }, method: 'POST' };
}

function events(failed: ChildLeg[]): ChildEvents {
  return {
    ringing: () => undefined, answered: () => undefined, failed: (c) => failed.push(c),
    hungUp: () => undefined, request: () => undefined, ack: () => undefined, redirect: () => false, fault: () => undefined,
  };
}

describe('ChildLeg.start', () => {
  it('sends the INVITE with the X-Twilio identity and the target headers', async () => {
    const { ctx, stack } = await rig();
    const child = new ChildLeg(ctx, parent, target([['X-Custom', 'yes']]), 'alice', undefined, events([]));
    child.start();
    expect(stack.transport.sent).toHaveLength(1);
    const text = new TextDecoder().decode(stack.transport.sent[0]!.bytes);
    expect(startLine(stack.transport.sent[0]!.bytes)).toBe('INVITE sip:bob@127.0.0.1:5080 SIP/2.0');
    expect(text).toContain(`X-Twilio-CallSid: ${child.sid}\r\n`);
    expect(text).toContain('X-Custom: yes\r\n');
    expect(ctx.store.get(child.sid)?.status).toBe('initiated');
  });

  it('an INVITE that cannot be built is a failed attempt with error 32112, not an exception', async () => {
    const { ctx, stack, alerts } = await rig();
    const failed: ChildLeg[] = [];
    const child = new ChildLeg(ctx, parent, target([['X-Evil', 'a\r\nVia: injected']]), 'alice', undefined, events(failed));
    expect(() => child.start()).not.toThrow();
    expect(stack.transport.sent).toHaveLength(0);
    expect(failed).toHaveLength(0); // told on the next tick, not inside start()
    await Promise.resolve();
    expect(failed).toEqual([child]);
    expect(child.ended).toBe(true);
    expect(child.sipStatus).toBe(0);
    expect(ctx.store.get(child.sid)?.status).toBe('failed');
    expect(alerts).toEqual([expect.objectContaining({ level: 'error', code: 32112, message: expect.stringContaining('sip:bob@127.0.0.1:5080') })]);
  });

  it('a header name that is not a token fails the attempt with 13224', async () => {
    const { ctx, alerts } = await rig();
    const failed: ChildLeg[] = [];
    const child = new ChildLeg(ctx, parent, target([['X Bad', 'v']]), 'alice', undefined, events(failed));
    child.start();
    await Promise.resolve();
    expect(failed).toEqual([child]);
    expect(alerts.map((a) => a.code)).toEqual([13224]);
  });
});
