/**
 * A client of rtpengine's NG control protocol over UDP. A message is
 * `<cookie> <bencoded dictionary>`; the reply repeats the cookie. rtpengine
 * caches its reply per cookie, so a retransmission with the same cookie is
 * answered from the cache instead of being run twice, and a cookie reused by
 * another client would get someone else's reply: cookies here carry the
 * process id, a random per-client prefix and a counter.
 *
 * Each command is sent, re-sent every `retransmitMs` until a reply with its
 * cookie arrives, and given up after `timeoutMs` (`NgTimeoutError`). A reply
 * with `result: error` becomes `NgCommandError` carrying `error-reason`; a
 * reply that carries our cookie but is not a bencoded dictionary with a
 * `result` becomes `NgMalformedReplyError`. A datagram whose cookie matches
 * nothing pending (a late duplicate, garbage) is logged and dropped.
 *
 * Bencoding is the `bencode` package. The npm `rtpengine-client` package was
 * considered: it treats `onDTMF` pushes on TCP as errors and assumes one TCP
 * message per chunk, and we only need UDP with our own retransmission and
 * error classes, so this small client is ours.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import bencode from 'bencode';
import type { Logger } from '../log.js';
import { NgClosedError, NgCommandError, NgMalformedReplyError, NgTimeoutError } from './errors.js';

/** A decoded NG value: bencode strings come back as (UTF-8) strings. */
export type NgValue = string | number | NgValue[] | NgDict;
/** An NG dictionary (a command's parameters or a reply). */
export interface NgDict {
  [key: string]: NgValue;
}
/** A value accepted in a command: as `NgValue`, plus raw bytes and absent keys (dropped). */
export type NgParam = string | number | Uint8Array | NgParam[] | { [key: string]: NgParam | undefined };

/** Options of {@link NgClient}. */
export interface NgClientOptions {
  /** rtpengine's NG address (IPv4 or IPv6 literal). */
  host: string;
  /** rtpengine's NG UDP port. */
  port: number;
  /** Give up on a command after this many ms, retransmissions included (default 5000). */
  timeoutMs?: number;
  /** Re-send an unanswered command every this many ms (default 1000). */
  retransmitMs?: number;
  /** Where dropped datagrams and warnings are logged. */
  logger?: Logger;
}

/** Which call (and which party in it) a command addresses. */
export interface NgParty {
  callId: string;
  /** The party's tag: rtpengine's `from-tag` selects the participant. */
  fromTag?: string;
  /** The other party's tag, where a command takes it. */
  toTag?: string;
  /** Further NG keys sent as they are (e.g. `flags: ['all']`). */
  extra?: Record<string, NgParam | undefined>;
}

/** Parameters of `offer` and `answer`. */
export interface NgSdpParams extends NgParty {
  fromTag: string;
  sdp: string;
  /** NG `flags` (e.g. `inject DTMF`, `strict source`). */
  flags?: string[];
  /** NG `replace` (e.g. `origin`, `session-connection`). */
  replace?: string[];
}

/** What `offer` and `answer` return: the rewritten SDP and the whole reply. */
export interface NgSdpReply {
  sdp: string;
  reply: NgDict;
}

/** Parameters of `play media`: a file path on rtpengine's machine, or the bytes. */
export interface NgPlayMediaParams extends NgParty {
  file?: string;
  blob?: Uint8Array;
  /** NG `repeat-times`: how many times to play it (rtpengine's default: once). */
  repeatTimes?: number;
}

/** What `play media` returns. */
export interface NgPlayMediaReply {
  /** The media's duration in ms, as rtpengine reports it (absent when it cannot tell). */
  durationMs: number | undefined;
  reply: NgDict;
}

/** Parameters of `play DTMF`. */
export interface NgPlayDtmfParams extends NgParty {
  /** One DTMF character (0-9, *, #, A-D) or an event number 0-15. */
  code: string | number;
  /** Tone length in ms (rtpengine's default 100). */
  durationMs?: number;
  /** Volume in -dBm0 (rtpengine's default 8). */
  volume?: number;
  /** Pause after the tone in ms (rtpengine's default 100). */
  pauseMs?: number;
}

interface Pending {
  command: string;
  message: Buffer;
  resolve(reply: NgDict): void;
  reject(error: Error): void;
  retransmit: NodeJS.Timeout;
  deadline: NodeJS.Timeout;
}

const utf8 = new TextDecoder('utf-8');

/** Turns a decoded bencode value into NG values (byte strings to UTF-8 text). */
function toNgValue(value: unknown): NgValue {
  if (value instanceof Uint8Array) return utf8.decode(value);
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map(toNgValue);
  if (value !== null && typeof value === 'object') {
    const dict: NgDict = {};
    for (const [k, v] of Object.entries(value)) dict[k] = toNgValue(v);
    return dict;
  }
  throw new Error(`unexpected bencode value ${String(value)}`);
}

/** Drops undefined keys (bencode would reject them) from a parameter tree. */
function clean(value: NgParam | undefined): NgParam | undefined {
  if (value === undefined || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v) => clean(v) as NgParam);
  const out: { [key: string]: NgParam } = {};
  for (const [k, v] of Object.entries(value)) {
    const c = clean(v);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

let clientSeq = 0;

/** One NG control connection (a UDP socket) to one rtpengine. */
export class NgClient {
  /** `host:port` of the rtpengine this client talks to. */
  readonly target: string;
  private readonly socket: Socket;
  private readonly pending = new Map<string, Pending>();
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly retransmitMs: number;
  private seq = 0;
  private closed = false;

  /** @param options - where rtpengine listens, timeouts, logger. */
  constructor(private readonly options: NgClientOptions) {
    if (isIP(options.host) === 0) throw new TypeError(`NG host must be an IP address, got "${options.host}"`);
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new RangeError(`NG port out of range: ${options.port}`);
    this.target = isIP(options.host) === 6 ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retransmitMs = options.retransmitMs ?? 1000;
    // pid + per-client random + per-client sequence: unique across clients and processes
    this.prefix = `${process.pid.toString(36)}${(clientSeq++).toString(36)}${randomBytes(4).toString('hex')}_`;
    this.socket = createSocket(isIP(options.host) === 6 ? 'udp6' : 'udp4');
    this.socket.on('message', (msg) => this.onMessage(msg));
    this.socket.on('error', (error) => this.options.logger?.warn('NG socket error', { target: this.target, error: error.message }));
    this.socket.unref();
  }

  /** Commands sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends one NG command and resolves with rtpengine's reply dictionary.
   * Rejects with NgCommandError (`result: error`), NgTimeoutError, NgMalformedReplyError or NgClosedError.
   * @param command - the NG `command` value (`offer`, `play media`, …).
   * @param params - the other keys; undefined values are left out.
   * @param options - `timeoutMs` for this command instead of the client's.
   */
  request(command: string, params: Record<string, NgParam | undefined> = {}, options: { timeoutMs?: number } = {}): Promise<NgDict> {
    if (this.closed) return Promise.reject(new NgClosedError(command));
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const cookie = `${this.prefix}${(this.seq++).toString(36)}`;
    const body = bencode.encode(clean({ ...params, command }) as Record<string, NgParam>);
    const message = Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), body]);
    return new Promise<NgDict>((resolve, reject) => {
      const entry: Pending = {
        command,
        message,
        resolve,
        reject,
        retransmit: setInterval(() => this.send(entry), this.retransmitMs),
        deadline: setTimeout(() => this.settle(cookie)?.reject(new NgTimeoutError(command, this.target, timeoutMs)), timeoutMs),
      };
      this.pending.set(cookie, entry);
      this.send(entry);
    });
  }

  /** `ping`: resolves when rtpengine answers `pong` (within `timeoutMs`, default the client's). */
  async ping(options: { timeoutMs?: number } = {}): Promise<void> {
    await this.request('ping', {}, options);
  }

  /** `offer`: the caller's SDP in, the SDP to send on out. */
  async offer(p: NgSdpParams): Promise<NgSdpReply> {
    return this.sdpCommand('offer', p);
  }

  /** `answer`: the answerer's SDP in (its tag in `toTag`), the SDP for the offerer out. */
  async answer(p: NgSdpParams & { toTag: string }): Promise<NgSdpReply> {
    return this.sdpCommand('answer', p);
  }

  /** `delete`: the whole call, or one party's branch with `fromTag`/`toTag`. */
  delete(p: NgParty): Promise<NgDict> {
    return this.request('delete', this.partyParams(p));
  }

  /** `query`: rtpengine's view of the call (tags, streams, counters). */
  query(p: NgParty): Promise<NgDict> {
    return this.request('query', this.partyParams(p));
  }

  /** `play media` to the selected party; resolves with the reported duration. */
  async playMedia(p: NgPlayMediaParams): Promise<NgPlayMediaReply> {
    const reply = await this.request('play media', { ...this.partyParams(p), file: p.file, blob: p.blob, 'repeat-times': p.repeatTimes });
    const d = reply.duration;
    return { durationMs: typeof d === 'number' && d >= 0 ? d : undefined, reply };
  }

  /** `stop media`. */
  stopMedia(p: NgParty): Promise<NgDict> {
    return this.request('stop media', this.partyParams(p));
  }

  /** `play DTMF` (needs the `inject DTMF` flag on the call's offer and answer). */
  playDtmf(p: NgPlayDtmfParams): Promise<NgDict> {
    return this.request('play DTMF', { ...this.partyParams(p), code: String(p.code), duration: p.durationMs, volume: p.volume, pause: p.pauseMs });
  }

  /** `block media`: the selected party's media is no longer forwarded. */
  blockMedia(p: NgParty): Promise<NgDict> {
    return this.request('block media', this.partyParams(p));
  }

  /** `unblock media`. */
  unblockMedia(p: NgParty): Promise<NgDict> {
    return this.request('unblock media', this.partyParams(p));
  }

  /** `block DTMF`: the selected party's RFC 4733 events are no longer forwarded (still detected). */
  blockDtmf(p: NgParty): Promise<NgDict> {
    return this.request('block DTMF', this.partyParams(p));
  }

  /** `unblock DTMF`. */
  unblockDtmf(p: NgParty): Promise<NgDict> {
    return this.request('unblock DTMF', this.partyParams(p));
  }

  /** Closes the socket; commands still waiting reject with NgClosedError. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const cookie of [...this.pending.keys()]) {
      const entry = this.settle(cookie);
      entry?.reject(new NgClosedError(entry.command));
    }
    this.socket.close();
  }

  private async sdpCommand(command: 'offer' | 'answer', p: NgSdpParams): Promise<NgSdpReply> {
    const reply = await this.request(command, { ...this.partyParams(p), sdp: p.sdp, flags: p.flags, replace: p.replace });
    if (typeof reply.sdp !== 'string') throw new NgMalformedReplyError(command, 'no "sdp" string in the reply');
    return { sdp: reply.sdp, reply };
  }

  private partyParams(p: NgParty): Record<string, NgParam | undefined> {
    return { ...p.extra, 'call-id': p.callId, 'from-tag': p.fromTag, 'to-tag': p.toTag };
  }

  private send(entry: Pending): void {
    if (this.closed) return;
    this.socket.send(entry.message, this.options.port, this.options.host, (error) => {
      if (error) this.options.logger?.warn('NG send failed', { target: this.target, command: entry.command, error: error.message });
    });
  }

  /** Removes a pending command and its timers; undefined when it was already settled. */
  private settle(cookie: string): Pending | undefined {
    const entry = this.pending.get(cookie);
    if (entry === undefined) return undefined;
    this.pending.delete(cookie);
    clearInterval(entry.retransmit);
    clearTimeout(entry.deadline);
    return entry;
  }

  private onMessage(msg: Buffer): void {
    const space = msg.indexOf(0x20);
    const cookie = space > 0 ? msg.toString('latin1', 0, space) : '';
    const entry = this.settle(cookie);
    if (entry === undefined) {
      this.options.logger?.debug('NG reply matches no pending command, dropped', { target: this.target, bytes: msg.length });
      return;
    }
    let reply: NgValue;
    try {
      const body = msg.subarray(space + 1);
      reply = toNgValue(bencode.decode(body));
      if (bencode.decode.position !== body.length) throw new Error(`${body.length - bencode.decode.position} bytes after the dictionary`);
    } catch (error) {
      entry.reject(new NgMalformedReplyError(entry.command, (error as Error).message));
      return;
    }
    if (typeof reply !== 'object' || Array.isArray(reply)) {
      entry.reject(new NgMalformedReplyError(entry.command, 'not a dictionary'));
      return;
    }
    const result = reply.result;
    if (typeof result !== 'string') {
      entry.reject(new NgMalformedReplyError(entry.command, 'no "result" string'));
    } else if (result === 'ok' || result === 'pong') {
      if (reply.warning !== undefined) this.options.logger?.warn('rtpengine warning', { target: this.target, command: entry.command, warning: reply.warning });
      entry.resolve(reply);
    } else {
      // `error`, `load limit` or anything else that is not a success
      const reason = reply['error-reason'];
      entry.reject(new NgCommandError(entry.command, typeof reason === 'string' ? reason : `result "${result}"`));
    }
  }
}
