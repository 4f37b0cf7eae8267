/**
 * What the call layer's parts share: the SIP stack, the stores, the webhook
 * client, configuration and the alert sink (Twilio-debugger-style warnings
 * and errors, published as call events and logged).
 */
import type { TransactionLayer } from '../transaction/layer.js';
import type { TransportLayer } from '../transport/layer.js';
import type { Clock } from '../transport/clock.js';
import type { DialogHandler, DialogRegistry } from '../dialog/registry.js';
import type { WebhookClient } from '../webhooks/client.js';
import type { WasmParser } from '../wasm/parser.js';
import type { TwimlConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { CachedParse } from '../twiml/cache.js';
import type { CallStore } from './store.js';
import type { LiveCalls } from './live.js';

/** Dependencies of calls and dial legs. */
export interface CallContext {
  transactions: TransactionLayer;
  transport: TransportLayer;
  clock: Clock;
  registry: DialogRegistry<DialogHandler>;
  /** Our Contact for a transport (`<sip:patchbay@host:port;transport=…>`), on the listener bound to `source` when given. */
  contactFor(transport: string, source?: string): string;
  store: CallStore;
  webhooks: WebhookClient;
  parser: WasmParser;
  /** Parses and validates a TwiML document (cached by text; results are frozen). */
  parseTwiml: CachedParse;
  config: TwimlConfig;
  log: Logger;
  /** The calls that are up (sessions, dial legs, REST-created calls ringing), by SID. */
  live: LiveCalls;
  /** Record a warning or error on a call (event stream, log, record's errorCode). */
  alert(callSid: string, level: 'warning' | 'error', code: number, message: string): void;
}
