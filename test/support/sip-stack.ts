/**
 * Test stacks: a transport layer and a transaction layer over the loop
 * transport with a fake clock, plus small message helpers.
 */
import { LoopNetwork, type LoopTransport } from '../../runtime/transport/loop.js';
import { TransportLayer, type ParseFn } from '../../runtime/transport/layer.js';
import { TransactionLayer, type TransactionLayerOptions } from '../../runtime/transaction/layer.js';
import type { TimerSettings } from '../../runtime/transaction/timers.js';
import type { Destination } from '../../runtime/transport/transport.js';
import { createRequest } from '../../runtime/sip/build.js';
import type { OutgoingRequest } from '../../runtime/sip/message.js';
import { FakeClock } from './fake-clock.js';
import { parserFor } from './wasm.js';

/** One stack on a loop network. */
export interface LoopStack {
  transport: LoopTransport;
  layer: TransportLayer;
  tx: TransactionLayer;
  /** Where to send to reach this stack. */
  address: Destination;
}

/** Options of {@link loopStack}. */
export interface LoopStackOptions {
  port: number;
  protocol?: 'udp' | 'tcp';
  timers?: TimerSettings;
  trying100?: boolean;
  /** A parse function instead of the release parser. */
  parse?: ParseFn;
  /** The transport layer's handler-error hook (default: rethrown). */
  onHandlerError?: (error: unknown) => void;
  /** The transaction layer's report of responses that cannot be serialized. */
  onUnsendable?: TransactionLayerOptions['onUnsendable'];
}

/** @return a listening stack on `network`. */
export async function loopStack(network: LoopNetwork, options: LoopStackOptions): Promise<LoopStack> {
  const protocol = options.protocol ?? 'udp';
  const transport = network.transport({ port: options.port, protocol });
  const layer = new TransportLayer({ transports: [transport], parser: parserFor('release'), parse: options.parse, onHandlerError: options.onHandlerError });
  const tx = new TransactionLayer({ transport: layer, clock: network.clock, timers: options.timers, trying100: options.trying100, onUnsendable: options.onUnsendable });
  await layer.listen();
  return { transport, layer, tx, address: { transport: protocol, host: '127.0.0.1', port: options.port } };
}

/** A UAC and a UAS stack on one network with a fake clock. */
export async function loopPair(options: { protocol?: 'udp' | 'tcp'; timers?: TimerSettings; trying100?: boolean } = {}): Promise<{ clock: FakeClock; network: LoopNetwork; uac: LoopStack; uas: LoopStack }> {
  const clock = new FakeClock();
  const network = new LoopNetwork({ clock });
  const uac = await loopStack(network, { port: 5070, ...options });
  const uas = await loopStack(network, { port: 5080, ...options });
  return { clock, network, uac, uas };
}

/** @return a request from alice to bob. */
export function testRequest(method: string, cseq = 1): OutgoingRequest {
  return createRequest(method, 'sip:bob@127.0.0.1:5080', {
    from: '<sip:alice@127.0.0.1:5070>', to: '<sip:bob@127.0.0.1:5080>', cseq, contact: '<sip:alice@127.0.0.1:5070>',
  });
}

const decoder = new TextDecoder();

/** @return the start line of a message. */
export function startLine(bytes: Uint8Array): string {
  const text = decoder.decode(bytes.subarray(0, 200));
  return text.slice(0, text.indexOf('\r\n'));
}

/** @return the start lines of what a loop transport sent, with their times. */
export function sentLines(transport: LoopTransport): Array<[number, string]> {
  return transport.sent.map((r) => [r.at, startLine(r.bytes)]);
}
