/**
 * A test RTP endpoint (RFC 3550): sends G.711 from 8 kHz samples at 20 ms
 * pacing, sends RFC 4733 telephone events, and records what it receives,
 * decoding G.711 audio and RFC 4733 events. TypeScript is fine here: it runs
 * in tests only, never in Patchbay's hot path.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { decodeG711, encodeG711 } from './g711.js';

/** One received RTP packet. */
export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
  /** performance.now() at arrival. */
  at: number;
}

/** One RFC 4733 event received (reported once, at its end). */
export interface ReceivedEvent {
  digit: string;
  event: number;
  /** Event duration in timestamp units (1/8000 s). */
  duration: number;
  /** performance.now() of its first and of its end packet. */
  startAt: number;
  endAt: number;
}

/** Where to send. */
export interface RtpTarget {
  address: string;
  port: number;
}

const DIGITS = '0123456789*#ABCD';
const FRAME = 160; // 20 ms at 8 kHz

/** A G.711 + telephone-event endpoint on one UDP socket. */
export class RtpEndpoint {
  readonly packets: RtpPacket[] = [];
  readonly events: ReceivedEvent[] = [];
  private readonly ssrc = randomInt(1, 0xffffffff);
  private seq = randomInt(0, 0xffff);
  private timestamp = randomInt(0, 0x7fffffff);
  private queue: Promise<void> = Promise.resolve();
  private readonly openEvents = new Map<string, { startAt: number }>();
  private readonly endedEvents = new Set<string>();

  private constructor(private readonly socket: Socket, readonly port: number, readonly dtmfPayloadType: number) {
    socket.on('message', (msg) => this.onPacket(msg));
  }

  /** Binds an endpoint on `address` (default loopback), on a free port. */
  static async open(address = '127.0.0.1', dtmfPayloadType = 101): Promise<RtpEndpoint> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    return new RtpEndpoint(socket, socket.address().port, dtmfPayloadType);
  }

  /** Closes the socket. */
  close(): void {
    this.socket.close();
  }

  /**
   * Sends `samples` (8 kHz) as G.711 packets of 20 ms, paced on an absolute schedule;
   * queued after anything sent before. Resolves once the last packet is out.
   */
  sendAudio(samples: Int16Array, to: RtpTarget, payloadType: 0 | 8 = 0): Promise<void> {
    return this.enqueue(async () => {
      const t0 = performance.now();
      for (let i = 0, n = 0; i < samples.length; i += FRAME, n++) {
        await until(t0 + n * 20);
        const frame = new Int16Array(FRAME);
        frame.set(samples.subarray(i, i + FRAME));
        this.send(to, payloadType, n === 0, this.timestamp, encodeG711(payloadType, frame));
        this.timestamp = (this.timestamp + FRAME) >>> 0;
      }
    });
  }

  /** Sends `ms` of silence (keeps the stream alive, gives rtpengine our SSRC). */
  sendSilence(ms: number, to: RtpTarget, payloadType: 0 | 8 = 0): Promise<void> {
    return this.sendAudio(new Int16Array(Math.round((ms * 8000) / 1000)), to, payloadType);
  }

  /**
   * Sends each digit as an RFC 4733 event: a packet every 20 ms with the event's start
   * timestamp, the first with the marker bit, the duration growing by 160, then the end
   * packet three times (section 2.5.1.4); `gapMs` of nothing between digits.
   */
  sendDigits(digits: string, to: RtpTarget, options: { durationMs?: number; gapMs?: number } = {}): Promise<void> {
    const durationMs = options.durationMs ?? 100;
    const gapMs = options.gapMs ?? 60;
    return this.enqueue(async () => {
      for (const d of digits) {
        const event = DIGITS.indexOf(d.toUpperCase());
        if (event < 0) throw new Error(`not a DTMF digit: ${JSON.stringify(d)}`);
        const start = this.timestamp;
        const steps = Math.max(1, Math.round(durationMs / 20));
        const t0 = performance.now();
        for (let n = 1; n <= steps; n++) {
          await until(t0 + (n - 1) * 20);
          const end = n === steps;
          const repeats = end ? 3 : 1;
          for (let r = 0; r < repeats; r++) this.send(to, this.dtmfPayloadType, n === 1, start, eventPayload(event, end, n * FRAME));
        }
        this.timestamp = (start + steps * FRAME) >>> 0;
        await until(t0 + steps * 20 + gapMs);
        this.timestamp = (this.timestamp + Math.round(gapMs * 8)) >>> 0;
      }
    });
  }

  /** Received G.711 audio, decoded, in arrival order (other payload types left out). */
  audio(): Int16Array {
    const audio = this.packets.filter((p) => p.payloadType === 0 || p.payloadType === 8);
    const out = new Int16Array(audio.reduce((n, p) => n + p.payload.length, 0));
    let off = 0;
    for (const p of audio) {
      decodeG711(p.payloadType as 0 | 8, p.payload, out, off);
      off += p.payload.length;
    }
    return out;
  }

  /** Digits of the RFC 4733 events received, in order. */
  digits(): string {
    return this.events.map((e) => e.digit).join('');
  }

  /** Forgets everything received so far. */
  reset(): void {
    this.packets.length = 0;
    this.events.length = 0;
    this.openEvents.clear();
    this.endedEvents.clear();
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.queue.then(job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private send(to: RtpTarget, payloadType: number, marker: boolean, timestamp: number, payload: Uint8Array): void {
    const b = Buffer.alloc(12 + payload.length);
    b[0] = 0x80;
    b[1] = (marker ? 0x80 : 0) | payloadType;
    b.writeUInt16BE(this.seq, 2);
    b.writeUInt32BE(timestamp >>> 0, 4);
    b.writeUInt32BE(this.ssrc, 8);
    b.set(payload, 12);
    this.seq = (this.seq + 1) & 0xffff;
    this.socket.send(b, to.port, to.address);
  }

  private onPacket(msg: Buffer): void {
    if (msg.length < 12 || msg[0] === undefined || msg[0] >> 6 !== 2) return;
    const pt = (msg[1] as number) & 0x7f;
    if (pt >= 72 && pt <= 76) return; // RTCP on the RTP port (RFC 5761)
    const cc = (msg[0] as number) & 0x0f;
    let start = 12 + 4 * cc;
    if ((msg[0] as number) & 0x10) start += 4 + 4 * msg.readUInt16BE(start + 2);
    let end = msg.length;
    if ((msg[0] as number) & 0x20) end -= msg[msg.length - 1] as number;
    const p: RtpPacket = {
      payloadType: pt, marker: ((msg[1] as number) & 0x80) !== 0, seq: msg.readUInt16BE(2), timestamp: msg.readUInt32BE(4),
      ssrc: msg.readUInt32BE(8), payload: new Uint8Array(msg.subarray(start, end)), at: performance.now(),
    };
    this.packets.push(p);
    if (pt === this.dtmfPayloadType && p.payload.length >= 4) this.onEvent(p);
  }

  private onEvent(p: RtpPacket): void {
    const event = p.payload[0] as number;
    const isEnd = ((p.payload[1] as number) & 0x80) !== 0;
    const key = `${p.ssrc}:${p.timestamp}`;
    const open = this.openEvents.get(key);
    if (open === undefined) this.openEvents.set(key, { startAt: p.at });
    if (!isEnd || this.endedEvents.has(key)) return;
    this.endedEvents.add(key);
    const duration = ((p.payload[2] as number) << 8) | (p.payload[3] as number);
    this.events.push({ digit: DIGITS[event] ?? '?', event, duration, startAt: (open ?? { startAt: p.at }).startAt, endAt: p.at });
  }
}

function eventPayload(event: number, end: boolean, duration: number): Uint8Array {
  // RFC 4733 section 2.3: event, E|R|volume (10 = -10 dBm0), duration
  return Uint8Array.of(event, (end ? 0x80 : 0) | 10, (duration >> 8) & 0xff, duration & 0xff);
}

async function until(t: number): Promise<void> {
  const wait = t - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
