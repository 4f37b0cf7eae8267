/**
 * The daemon: parser, transports, transactions, admission and the B2BUA
 * wired together. Inbound INVITEs are admitted by ACL/credentials, then
 * bridged to the static route; OPTIONS to Patchbay itself get 200; SIGTERM
 * drains (new INVITEs get 503, calls may finish within the grace period,
 * then get BYE).
 */
import { readFileSync } from 'node:fs';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { createParser } from './wasm/load.js';
import type { MessageView } from './wasm/message-view.js';
import { TransportLayer } from './transport/layer.js';
import { createReceiveEngine } from './transport/pooled-parse.js';
import { UdpTransport } from './transport/udp.js';
import { TcpTransport } from './transport/tcp.js';
import { TlsTransport } from './transport/tls.js';
import type { Transport } from './transport/transport.js';
import { systemClock } from './transport/clock.js';
import { TransactionLayer } from './transaction/layer.js';
import type { ServerTx } from './transaction/server-tx.js';
import { createAdmissionPolicy, type AdmissionPolicy } from './auth/admission.js';
import { Bridge } from './dialog/bridge.js';
import { attempt, describeFault } from './dialog/fault.js';
import { DialogRegistry, type DialogHandler } from './dialog/registry.js';
import { CallStore } from './calls/store.js';
import type { CallControl } from './calls/control.js';
import { CallLayer } from './calls/layer.js';
import { sipUriChecker } from './sip/sip-target.js';
import { cachedTwimlParser } from './twiml/cache.js';
import { parseTwiml } from './twiml/parse.js';
import { createWebhookClient, type WebhookClient, type WebhookOutcome } from './webhooks/client.js';
import type { TransportStats } from './transport/stats.js';

/** Live counts the daemon reports (leak checks assert they return to zero). */
export interface DaemonStats {
  calls: number;
  dialogs: number;
  clientTx: number;
  serverTx: number;
  callsTotal: number;
  draining: boolean;
}

/** A running daemon. */
export interface Daemon {
  /** Bound SIP endpoints, in config order. */
  readonly endpoints: Array<{ transport: string; host: string; port: number }>;
  stats(): DaemonStats;
  /** Live and recent calls, and the event feed (REST API, events, metrics, CDR). */
  readonly calls: CallStore;
  /** Originate, redirect and end calls (REST API). */
  readonly control: CallControl;
  /** SIP message counters of the transport layer. */
  transportStats(): TransportStats;
  /** Stop taking calls, let calls finish for up to `graceMs`, BYE the rest, close. */
  drain(graceMs: number): Promise<void>;
  /** Close everything now. */
  close(): void;
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE';

function createTransports(config: Config, parser: ReturnType<typeof createParser>): Transport[] {
  return config.sip.listen.map((l) => {
    if (l.transport === 'udp') return new UdpTransport({ host: l.host, port: l.port, recvBufferSize: config.sip.udpRecvBuffer, sendBufferSize: config.sip.udpSendBuffer });
    if (l.transport === 'tcp') return new TcpTransport({ host: l.host, port: l.port, parser });
    return new TlsTransport({
      host: l.host, port: l.port, parser, cert: readFileSync(config.sip.tlsCert!), key: readFileSync(config.sip.tlsKey!),
      ca: config.sip.tlsCa ? readFileSync(config.sip.tlsCa) : undefined,
    });
  });
}

/** Hooks an embedding program (serve-command) gives the daemon. */
export interface DaemonHooks {
  /** Told about every settled webhook request (metrics). */
  onWebhook?: (outcome: WebhookOutcome) => void;
}

/** Start the daemon on `config`. */
export async function startDaemon(config: Config, log: Logger, hooks: DaemonHooks = {}): Promise<Daemon> {
  const parser = createParser({ ...config.parser });
  const transports = createTransports(config, parser);
  // --pool on: received datagrams are parsed in the worker pool in batches (inline when the rate is low)
  const engine = createReceiveEngine(config.parser);
  const transport = new TransportLayer({
    transports,
    parser,
    engine,
    onHandlerError: (error) => log.error('handler failed', { error: String((error as Error)?.stack ?? error) }),
  });
  const transactions = new TransactionLayer({ transport, timers: { T1: config.sip.t1, T2: config.sip.t2, T4: config.sip.t4, D: config.sip.timerD } });
  const admissionResult = createAdmissionPolicy({
    realm: config.auth.realm,
    acls: config.auth.allow.map((cidr) => ({ action: 'allow' as const, cidr })),
    credentials: config.auth.credentials,
    algorithms: config.auth.algorithms,
  });
  if (!admissionResult.ok) throw admissionResult.error;
  const admission: AdmissionPolicy = admissionResult.value;
  const registry = new DialogRegistry<DialogHandler>();
  const calls = new CallStore({ onListenerError: (error) => log.error('call listener failed', { error: String(error) }) });
  const twiml = config.twiml;
  const client = createWebhookClient({
    accountSid: twiml.accountSid, authToken: twiml.authToken, timeoutMs: twiml.webhookTimeoutSeconds * 1000, onComplete: hooks.onWebhook,
    thread: twiml.webhookThread,
  });
  // webhooks still in flight when the drain ends (the completed callbacks of the calls it hung up) are awaited before close
  const inFlight = new Set<Promise<unknown>>();
  const webhooks: WebhookClient = {
    request: (r) => {
      const p = client.request(r);
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
      return p;
    },
    close: () => client.close(),
  };
  const validateSipUri = sipUriChecker(parser);
  const parseDocument = cachedTwimlParser((xml) => parseTwiml(xml, { validateSipUri }));
  const callLayer = new CallLayer({
    transactions, transport, clock: systemClock, registry, contactFor: (t, source) => contactFor(t, source), store: calls, webhooks, parser,
    parseTwiml: parseDocument, config: twiml, log,
    alert: (callSid, level, code, message) => {
      log[level === 'error' ? 'warn' : 'info'](`call ${level}`, { callSid, code, message });
      calls.emit({ type: level, at: Date.now(), callSid, code, message });
      const record = calls.get(callSid);
      if (record && level === 'error') { record.errorCode = code; record.errorMessage = message; }
    },
  });
  const control: CallControl = callLayer;
  const bridges = new Set<Bridge>();
  let callsTotal = 0;
  let draining = false;
  const endpoints = await transport.listen();
  const contactFor = (proto: string, source?: string): string => {
    const t = (source !== undefined ? transports.find((x) => x.protocol === proto && x.local.host === source) : undefined)
      ?? transports.find((x) => x.protocol === proto) ?? transports[0]!;
    const host = t.sentBy.host.includes(':') ? `[${t.sentBy.host}]` : t.sentBy.host;
    return `<sip:patchbay@${host}:${t.sentBy.port};transport=${t.protocol}>`;
  };
  const routeAuth = config.routeAuth;

  const inboundInvite = (tx: ServerTx, request: MessageView): void => {
    if (draining) {
      tx.respond(tx.createResponse(503, 'Service Unavailable', { headers: [['Retry-After', '30']] }));
      return;
    }
    const decision = admission.decide({
      sourceIp: tx.source.host, method: 'INVITE', uri: request.requestUri ?? '',
      authorization: request.headers('Authorization'),
    });
    if (decision.kind === 'reject') {
      log.info('inbound call refused', { source: tx.source.host, reason: decision.reason });
      tx.respond(tx.createResponse(403, 'Forbidden'));
      return;
    }
    if (decision.kind === 'challenge') {
      tx.respond(tx.createResponse(401, 'Unauthorized', { headers: decision.headers.map(([n, v]) => [n, v]) }));
      return;
    }
    if (twiml.voiceUrl !== undefined) {
      callsTotal++;
      callLayer.inbound(tx, request);
      return;
    }
    if (!config.route) {
      tx.respond(tx.createResponse(480, 'Temporarily Unavailable', { headers: [['Warning', '399 patchbay "no route configured"']] }));
      return;
    }
    callsTotal++;
    const bridge = new Bridge({
      transactions, transport, clock: systemClock, registry, contactFor,
      ringTimeoutMs: config.ringTimeoutSeconds * 1000,
      credentials: routeAuth,
      onEnded: (b) => { bridges.delete(b); },
      onFault: (_b, error, where) => log.error('call failed', { callId: tx.request.callId ?? '', where, error: describeFault(error) }),
    }, tx, config.route);
    bridges.add(bridge);
    bridge.start();
  };

  transactions.onRequest((tx, request) => {
    if (request.toTag !== undefined && request.toTag !== '') {
      const owner = registry.forRequest(request);
      if (!owner) {
        tx.respond(tx.createResponse(481, 'Call/Transaction Does Not Exist'));
        return;
      }
      owner.bridge.onRequest(owner.side, tx, request);
      return;
    }
    switch (tx.method) {
      case 'INVITE': inboundInvite(tx, request); return;
      case 'OPTIONS': tx.respond(tx.createResponse(200, 'OK', { headers: [['Allow', ALLOW], ['Accept', 'application/sdp']] })); return;
      case 'BYE': tx.respond(tx.createResponse(481, 'Call/Transaction Does Not Exist')); return;
      default: tx.respond(tx.createResponse(405, 'Method Not Allowed', { headers: [['Allow', ALLOW]] }));
    }
  });
  transactions.onAck((ack) => {
    const owner = registry.forRequest(ack);
    owner?.bridge.onAck(owner.side, ack);
  });
  transactions.onStrayResponse((response) => {
    const owner = registry.forResponse(response);
    owner?.bridge.onStrayResponse(response);
  });

  log.info('listening', { sip: endpoints.map((e, i) => ({ transport: transports[i]!.protocol, host: e.host, port: e.port })), route: config.route ?? null });

  const stats = (): DaemonStats => ({ calls: bridges.size + callLayer.size, dialogs: registry.size, ...transactions.stats(), callsTotal, draining });
  const daemon: Daemon = {
    endpoints: endpoints.map((e, i) => ({ transport: transports[i]!.protocol, host: e.host, port: e.port })),
    stats,
    calls,
    control,
    transportStats: () => transport.stats(),
    async drain(graceMs: number): Promise<void> {
      draining = true;
      log.info('draining', { calls: bridges.size + callLayer.size, graceMs });
      const deadline = Date.now() + graceMs;
      while (bridges.size + callLayer.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      // each call is ended on its own: one that fails to end is logged, and the drain goes on
      const onFault = (error: unknown, where: string): void => log.error('call failed', { where, error: describeFault(error) });
      for (const b of [...bridges]) attempt(() => b.hangup('shutting down'), onFault, 'drain');
      // answered calls get BYE; callers still ringing get 503, so that their proxy may try another server
      for (const s of callLayer.sessions()) attempt(() => s.hangup('failed', [503, 'Service Unavailable']), onFault, 'drain');
      attempt(() => callLayer.cancelRinging(), onFault, 'drain');
      const byeDeadline = Date.now() + 5000;
      while (bridges.size + callLayer.size > 0 && Date.now() < byeDeadline) await new Promise((r) => setTimeout(r, 50));
      // the BYEs, CANCELs and 503s just sent get their answers (retransmitted if lost) before the sockets close
      await transactions.settle(Math.min(5000, 4 * config.sip.t1));
      // and the status callbacks of the calls just ended are delivered (bounded: one webhook timeout, at most 5 s)
      if (inFlight.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => { timer = setTimeout(r, Math.min(5000, twiml.webhookTimeoutSeconds * 1000)); })]);
        clearTimeout(timer);
      }
      daemon.close();
    },
    close(): void {
      transactions.close();
      void webhooks.close();
      void transport.close().then(() => engine?.close());
    },
  };
  return daemon;
}
