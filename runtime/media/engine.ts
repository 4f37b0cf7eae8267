/**
 * The media engine: where a call's media is anchored. Two modes:
 * - embedded: one private rtpengine on loopback, started and supervised here
 *   (supervisor.ts), restarted if it dies;
 * - external: the rtpengine instances of `--rtpengine udp:HOST:PORT[,…]`;
 *   each call goes to the least-loaded one (ties in turn), and an instance
 *   that does not answer `ping` is skipped (and tried again later).
 * `allocate()` gives a call its MediaCall (an rtpengine call-id on one
 * instance); `release()` deletes it there. rtpengine reports RFC 4733 digits
 * as JSON datagrams to `--dtmf-log-dest` (one per digit, sent when the digit
 * ends): `{"callid", "source_tag", "event": 0-15, "duration", …}`; the engine
 * listens for them and hands each to its call. When an instance dies, every
 * call on it gets `lost`: rtpengine keeps no state across a restart.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import { MediaConfigError, MediaUnavailableError } from './errors.js';
import { NgClient, type NgDict, type NgParty } from './ng-client.js';
import { RtpengineSupervisor, type SupervisorOptions } from './supervisor.js';

// The --rtpengine value is read with the rest of the configuration (config.ts: a lower layer).
export { parseRtpengineTargets, type NgAddress } from '../config.js';
import type { NgAddress } from '../config.js';

/** One RFC 4733 digit rtpengine saw on a call. */
export interface DtmfEvent {
  /** The digit: 0-9, `*`, `#`, A-D. */
  digit: string;
  /** The RFC 4733 event code, 0-15. */
  event: number;
  /** The tag of the party that sent it. */
  sourceTag: string;
  /** The event's duration as rtpengine reports it. */
  duration: number;
}

/** RFC 4733 section 3.2: events 0-9 are the digits, 10 `*`, 11 `#`, 12-15 A-D. */
const DIGITS = '0123456789*#ABCD';

/**
 * Reads one `--dtmf-log-dest` datagram; undefined (with the reason) when it is not a DTMF event.
 * @return the call-id and the event, or the reason it was refused
 */
export function parseDtmfLog(datagram: Buffer): { callId: string; event: DtmfEvent } | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(datagram.toString('utf8'));
  } catch {
    return { error: 'not JSON' };
  }
  if (v === null || typeof v !== 'object') return { error: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  if (typeof o.callid !== 'string' || o.callid === '') return { error: 'no callid' };
  if (typeof o.event !== 'number' || !Number.isInteger(o.event) || o.event < 0 || o.event > 15) return { error: `event ${String(o.event)} is not 0-15` };
  return {
    callId: o.callid,
    event: {
      digit: DIGITS[o.event] ?? '',
      event: o.event,
      sourceTag: typeof o.source_tag === 'string' ? o.source_tag : '',
      duration: typeof o.duration === 'number' ? o.duration : 0,
    },
  };
}

/** Options of {@link MediaEngine.start}. */
export type MediaEngineOptions =
  | ({ mode: 'embedded'; ngTimeoutMs?: number } & SupervisorOptions)
  | {
    mode: 'external';
    instances: readonly NgAddress[];
    /** Where we listen for the instances' `--dtmf-log-dest` JSON (default: no DTMF from RTP). */
    dtmfLogListen?: NgAddress;
    /** ping timeout when choosing an instance for a call (default 1000 ms). */
    pingTimeoutMs?: number;
    ngTimeoutMs?: number;
    logger: Logger;
  };

/** One rtpengine as the engine sees it. */
interface Instance {
  client: NgClient;
  calls: Set<MediaCall>;
  /** False while it is known to be down (embedded: between its death and its restart). */
  up: boolean;
}

/**
 * One call's media on one rtpengine instance. Its NG commands are the client's, with the
 * call-id filled in. Events: `dtmf` (DtmfEvent), `lost` (the instance died: the media is gone).
 */
export class MediaCall extends EventEmitter {
  private released = false;

  /** @internal created by MediaEngine.allocate */
  constructor(readonly callId: string, readonly ng: NgClient, private readonly onRelease: (call: MediaCall) => void) {
    super();
  }

  /** `host:port` of the instance this call's media runs on. */
  get instance(): string {
    return this.ng.target;
  }

  /** A party of this call (its tag) for the NG commands. */
  party(fromTag: string, toTag?: string, extra?: NgParty['extra']): NgParty & { fromTag: string } {
    return { callId: this.callId, fromTag, toTag, extra };
  }

  /** Deletes the call on rtpengine (errors logged, never thrown: the call is over either way). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.onRelease(this);
    this.removeAllListeners('dtmf');
    await this.ng.delete({ callId: this.callId }).catch(() => undefined);
  }

  /** True once released or lost. */
  get ended(): boolean {
    return this.released;
  }

  /** @internal the instance died */
  lose(): void {
    if (this.released) return;
    this.released = true;
    this.emit('lost');
  }
}

/** The media engine of a daemon (or a test). */
export class MediaEngine {
  private readonly instances: Instance[];
  private readonly byCallId = new Map<string, MediaCall>();
  private next = 0;
  private closed = false;

  private constructor(
    private readonly log: Logger,
    clients: NgClient[],
    private readonly dtmfSocket: Socket | undefined,
    private readonly supervisor: RtpengineSupervisor | undefined,
    private readonly pingTimeoutMs: number,
  ) {
    this.instances = clients.map((client) => ({ client, calls: new Set(), up: true }));
    dtmfSocket?.on('message', (msg) => this.onDtmfLog(msg));
    supervisor?.on('exit', () => this.onInstanceDown(0));
    supervisor?.on('ready', () => { const i = this.instances[0]; if (i) i.up = true; });
  }

  /** Starts an engine: embedded starts rtpengine and resolves once it answers ping; external only checks the targets. */
  static async start(options: MediaEngineOptions): Promise<MediaEngine> {
    const log = options.logger.child('media');
    if (options.mode === 'external') {
      if (options.instances.length === 0) throw new MediaConfigError('--rtpengine: no instance given');
      const socket = options.dtmfLogListen && await bindUdp(options.dtmfLogListen.host, options.dtmfLogListen.port);
      const clients = options.instances.map((a) => new NgClient({ host: a.host, port: a.port, timeoutMs: options.ngTimeoutMs, logger: log }));
      return new MediaEngine(log, clients, socket, undefined, options.pingTimeoutMs ?? 1000);
    }
    const address = options.address ?? '127.0.0.1';
    const socket = await bindUdp(address, 0);
    const supervisor = new RtpengineSupervisor({ ...options, logger: log, address, dtmfLogDest: { host: address, port: socket.address().port } });
    try {
      await supervisor.start();
    } catch (error) {
      socket.close();
      throw error;
    }
    const client = new NgClient({ host: address, port: supervisor.ngPort, timeoutMs: options.ngTimeoutMs, logger: log });
    return new MediaEngine(log, [client], socket, supervisor, 1000);
  }

  /** The embedded rtpengine's supervisor (undefined in external mode). */
  get embedded(): RtpengineSupervisor | undefined {
    return this.supervisor;
  }

  /** Calls currently allocated, per instance `host:port`. */
  load(): Record<string, number> {
    return Object.fromEntries(this.instances.map((i) => [i.client.target, i.calls.size]));
  }

  /**
   * Gives a call its media on the next instance that answers ping (in turn).
   * Rejects with MediaUnavailableError when none does.
   * @param callId - the rtpengine call-id (default: a fresh random one)
   */
  async allocate(callId = `pb-${randomBytes(12).toString('hex')}`): Promise<MediaCall> {
    if (this.closed) throw new MediaUnavailableError('media engine closed');
    if (this.byCallId.has(callId)) throw new MediaConfigError(`media call-id "${callId}" is already allocated`);
    // least-loaded first, ties in turn; instances known to be down last (external: pinged again,
    // so one that came back is used again; embedded: a dead rtpengine is being restarted)
    const n = this.instances.length;
    const start = this.next++ % n;
    const order = this.instances
      .map((inst, i) => ({ inst, rank: (inst.up ? 0 : 1e9) + inst.calls.size * n + ((i - start + n) % n) }))
      .sort((x, y) => x.rank - y.rank)
      .map((x) => x.inst);
    const tried: string[] = [];
    for (const inst of order) {
      if (!inst.up && this.supervisor !== undefined) {
        tried.push(`${inst.client.target} (restarting)`);
        continue;
      }
      const alive = await inst.client.ping({ timeoutMs: this.pingTimeoutMs }).then(() => true, () => false);
      if (!alive) {
        if (inst.up) this.log.warn('rtpengine does not answer ping; skipped', { instance: inst.client.target });
        inst.up = false;
        tried.push(`${inst.client.target} (no ping reply)`);
        continue;
      }
      inst.up = true;
      const call = new MediaCall(callId, inst.client, (c) => { inst.calls.delete(c); this.byCallId.delete(c.callId); });
      inst.calls.add(call);
      this.byCallId.set(callId, call);
      return call;
    }
    throw new MediaUnavailableError(`no rtpengine answers: ${tried.join(', ')}`);
  }

  /** rtpengine's view of a call, for diagnostics. */
  query(call: MediaCall): Promise<NgDict> {
    return call.ng.query({ callId: call.callId });
  }

  /** Deletes every call, closes the NG clients and the DTMF socket, stops an embedded rtpengine. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.byCallId.values()].map((c) => c.release()));
    for (const i of this.instances) i.client.close();
    this.dtmfSocket?.close();
    await this.supervisor?.close();
  }

  private onInstanceDown(index: number): void {
    const inst = this.instances[index];
    if (inst === undefined) return;
    inst.up = false;
    const lost = [...inst.calls];
    if (lost.length > 0) this.log.error('rtpengine died: media of its calls is lost', { instance: inst.client.target, calls: lost.length });
    for (const call of lost) {
      inst.calls.delete(call);
      this.byCallId.delete(call.callId);
      call.lose();
    }
  }

  private onDtmfLog(msg: Buffer): void {
    const parsed = parseDtmfLog(msg);
    if ('error' in parsed) {
      this.log.warn('DTMF log datagram ignored', { reason: parsed.error, bytes: msg.length });
      return;
    }
    const call = this.byCallId.get(parsed.callId);
    if (call === undefined) {
      this.log.debug('DTMF for an unknown call ignored', { callId: parsed.callId });
      return;
    }
    call.emit('dtmf', parsed.event);
  }
}

async function bindUdp(host: string, port: number): Promise<Socket> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => { socket.off('error', reject); resolve(); });
  }).catch((error: Error) => { throw new MediaConfigError(`cannot listen for rtpengine's DTMF log on ${host}:${port}: ${error.message}`); });
  socket.on('error', () => undefined);
  return socket;
}
