/**
 * The daemon: parser, transports, transactions, admission and the B2BUA
 * wired together. New requests pass the per-source rate limit and inbound
 * INVITEs are admitted by ACL/credentials (both answered statelessly when
 * refused, auth/screen.ts), then bridged to the static route; OPTIONS to
 * Patchbay itself get 200; SIGTERM drains (new INVITEs get 503, calls may
 * finish within the grace period, then get BYE).
 */
import { readFileSync } from 'node:fs';
import { ConfigError, type Config } from './config.js';
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
import { createAdmissionPolicy, type AdmissionPolicy, type AdmissionStats } from './auth/admission.js';
import { createRateLimiter, type RateLimitStats } from './auth/rate-limit.js';
import { createRequestScreen } from './auth/screen.js';
import { LogThrottle } from './auth/log-throttle.js';
import { Bridge } from './dialog/bridge.js';
import { attempt, describeFault } from './dialog/fault.js';
import { MAX_CSEQ } from './dialog/dialog.js';
import { DialogRegistry, type DialogHandler } from './dialog/registry.js';
import { CallStore } from './calls/store.js';
import type { CallControl } from './calls/control.js';
import { CallLayer } from './calls/layer.js';
import { LiveCalls } from './calls/live.js';
import { attachCallLog } from './calls/call-log.js';
import { sipUriChecker } from './sip/sip-target.js';
import { cachedTwimlParser } from './twiml/cache.js';
import { parseTwiml } from './twiml/parse.js';
import { createWebhookClient, type WebhookClient, type WebhookOutcome } from './webhooks/client.js';
import type { TransportStats } from './transport/stats.js';
import { uriOf } from './dialog/target.js';
import type { MediaEngine } from './media/engine.js';
import { startMediaEngine } from './media/start.js';

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
  /** Counters of admission (challenges, failed logins, lockouts) and of the rate limit. */
  admissionStats(): { admission: AdmissionStats; rateLimit: RateLimitStats };
  /** The signed webhook client of the calls (the completed callbacks of calls a crash lost go through it too). */
  readonly webhooks: WebhookClient;
  /** The media engine (rtpengine), undefined with --media off or when none could be had (logged at start). Not used by calls yet. */
  readonly media: MediaEngine | undefined;
  /** Stop taking calls, let calls finish for up to `graceMs`, BYE the rest, close. */
  drain(graceMs: number): Promise<void>;
  /** Close everything now. */
  close(): void;
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE';

function createTransports(config: Config, parser: ReturnType<typeof createParser>): Transport[] {
  const { sip } = config;
  const stream = {
    parser,
    maxConnections: sip.tcpMaxConnections,
    maxConnectionsPerSource: sip.tcpMaxConnectionsPerSource,
    messageTimeoutMs: sip.tcpMessageTimeoutSeconds * 1000,
    idleTimeoutMs: sip.tcpIdleTimeoutSeconds * 1000,
  };
  return config.sip.listen.map((l) => {
    if (l.transport === 'udp') return new UdpTransport({ host: l.host, port: l.port, recvBufferSize: config.sip.udpRecvBuffer, sendBufferSize: config.sip.udpSendBuffer });
    if (l.transport === 'tcp') return new TcpTransport({ host: l.host, port: l.port, ...stream });
    return new TlsTransport({
      host: l.host, port: l.port, ...stream, cert: readFileSync(config.sip.tlsCert!), key: readFileSync(config.sip.tlsKey!),
      ca: config.sip.tlsCa ? readFileSync(config.sip.tlsCa) : undefined,
    });
  });
}

/** Status (Twilio's CallStatus words), SIP code and duration of a static-route call that ended. */
function bridgeOutcome(b: Bridge): { status: string; sipResponseCode: number | null; duration: number } {
  const code = b.a.tx.lastStatus;
  const answeredAt = b.a.answeredAt;
  if (answeredAt !== undefined) return { status: 'completed', sipResponseCode: code, duration: Math.max(0, Math.round((systemClock.now() - answeredAt) / 1000)) };
  const status = code === 486 || code === 600 ? 'busy' : code === 487 ? 'canceled' : code === 408 || code === 480 ? 'no-answer' : 'failed';
  return { status, sipResponseCode: code >= 200 ? code : null, duration: 0 };
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
  const transactions = new TransactionLayer({
    transport, timers: { T1: config.sip.t1, T2: config.sip.t2, T4: config.sip.t4, D: config.sip.timerD },
    // rate-limited by the layer: the first at once, then one line per window with the count
    onUnsendable: (report) => log.error('response not sent: it cannot be serialized', { ...report }),
  });
  const a = config.auth;
  // refusals, locks and blocks can come at line rate: at most 20 lines per 10 s about them
  const refusals = new LogThrottle(20, 10_000);
  const admissionResult = createAdmissionPolicy({
    realm: a.realm,
    acls: a.allow.map((cidr) => ({ action: 'allow' as const, cidr })),
    credentials: a.credentials,
    algorithms: a.algorithms,
    lockout: { failures: a.lockoutFailures, windowMs: a.lockoutWindowSeconds * 1000, lockMs: a.lockoutSeconds * 1000, maxSources: a.maxTrackedSources },
    onLockout: (event) => {
      const suppressed = refusals.take();
      if (suppressed !== undefined) log.warn('authentication locked out', { ...event, suppressed });
    },
  });
  if (!admissionResult.ok) throw admissionResult.error;
  const admission: AdmissionPolicy = admissionResult.value;
  const limiterResult = createRateLimiter({
    requests: a.rateLimit, windowMs: a.rateLimitWindowSeconds * 1000, blockMs: a.rateLimitBlockSeconds * 1000,
    maxSources: a.maxTrackedSources, exempt: a.rateLimitExempt,
    onBlock: (source, requests) => {
      const suppressed = refusals.take();
      if (suppressed !== undefined) log.warn('source rate-limited', { source, requests, windowSeconds: a.rateLimitWindowSeconds, blockSeconds: a.rateLimitBlockSeconds, suppressed });
    },
  });
  if (!limiterResult.ok) throw new ConfigError(`--rate-limit-exempt: ${limiterResult.error.message}`);
  const limiter = limiterResult.value;
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
    parseTwiml: parseDocument, config: twiml, log, live: new LiveCalls(),
    alert: (callSid, level, code, message) => {
      log[level === 'error' ? 'warn' : 'info'](`call ${level}`, { callSid, code, message });
      calls.emit({ type: level, at: Date.now(), callSid, code, message });
      const record = calls.get(callSid);
      if (record && level === 'error') { record.errorCode = code; record.errorMessage = message; }
    },
  });
  const control: CallControl = callLayer;
  // one info line per call leg when it starts and ends; an inbound leg's SIP code is its final answer to the caller
  let inboundTx: ServerTx | undefined;
  const inboundTxs = new Map<string, ServerTx>();
  calls.on((event) => {
    if (event.type === 'call.created' && event.call.direction === 'inbound' && inboundTx) inboundTxs.set(event.call.sid, inboundTx);
  });
  attachCallLog(calls, log, (call) => {
    const tx = inboundTxs.get(call.sid);
    inboundTxs.delete(call.sid);
    return tx && tx.lastStatus >= 200 ? tx.lastStatus : undefined;
  });
  const bridges = new Set<Bridge>();
  let callsTotal = 0;
  let draining = false;
  const endpoints = await transport.listen();
  const media = await startMediaEngine(config.media, {
    avoidPorts: [...endpoints.map((e) => e.port), config.http.port].filter((p) => p > 0),
    logger: log,
  });
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
    if (request.cseqNumber >= MAX_CSEQ) {
      // RFC 3261 §8.1.1.5: a CSeq number is less than 2^31; a dialog opened at 2^32-1 leaves its caller no
      // higher number for a BYE (§12.2.2), so the call could never end from that side
      tx.respond(tx.createResponse(400, 'Bad Request', { headers: [['Warning', '399 patchbay "CSeq number must be less than 2^31 (RFC 3261 section 8.1.1.5)"']] }));
      return;
    }
    // admitted by the screen (auth/screen.ts) before the transaction was created
    // admitted: counted whatever becomes of it (patchbay_calls_handled_total), a 480 for want of a route included
    callsTotal++;
    if (twiml.voiceUrl !== undefined) {
      // the session's record is created inside inbound(): the call log reads the caller's final status from this tx
      inboundTx = tx;
      try { callLayer.inbound(tx, request); } finally { inboundTx = undefined; }
      return;
    }
    const call = { sipCallId: request.callId ?? '', from: uriOf(request.header('From') ?? ''), to: request.requestUri ?? '' };
    if (!config.route) {
      tx.respond(tx.createResponse(480, 'Temporarily Unavailable', { headers: [['Warning', '399 patchbay "no route configured"']] }));
      log.info('call ended', { ...call, status: 'failed', duration: 0, sipResponseCode: 480, reason: 'no route configured' });
      return;
    }
    log.info('call started', { ...call, route: config.route });
    const bridge = new Bridge({
      transactions, transport, clock: systemClock, registry, contactFor,
      ringTimeoutMs: config.ringTimeoutSeconds * 1000,
      credentials: routeAuth,
      onEnded: (b) => {
        bridges.delete(b);
        log.info('call ended', { ...call, ...bridgeOutcome(b) });
      },
      onFault: (_b, error, where) => log.error('call failed', { callId: tx.request.callId ?? '', where, error: describeFault(error) }),
    }, tx, config.route);
    bridges.add(bridge);
    bridge.start();
  };

  transactions.onScreen(createRequestScreen({
    admission, limiter, draining: () => draining,
    onRefused: (source, status, reason) => {
      const suppressed = refusals.take();
      if (suppressed !== undefined) log.info('inbound call refused', { source: source.host, status, reason, suppressed });
    },
  }));
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
    admissionStats: () => ({ admission: admission.stats(), rateLimit: limiter.stats() }),
    webhooks,
    media,
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
      void media?.close().catch((error: Error) => log.error('media engine close failed', { error: error.message }));
    },
  };
  return daemon;
}
