/**
 * The fuzz traffic: a paced, bounded stream of messages from the seeded PRNG, over a few UDP
 * sockets and short-lived TCP connections to the daemon. Most messages are mutated (./mutate.ts);
 * some are left well-formed so that calls get set up and the reactions (./ua.ts) reach the dialog
 * layer. TCP messages are also cut into random chunks, and connections end abruptly or half-way
 * through a message. Whatever the daemon sends back is read (and reacted to), never left queued.
 */
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { prng } from '../../test/support/prng.js';
import { branch, freshIds, METHODS, request, response, type Peer } from './messages.js';
import { mutate, type Mutation } from './mutate.js';
import { Reactions, splitMessages, type Send } from './ua.js';

/** Largest UDP payload over IPv4. */
const MAX_DATAGRAM = 65_507;
/** UDP sockets the datagrams are spread over (distinct sources). */
const UDP_SOCKETS = 4;
/** Most TCP connections open at once. */
const MAX_CONNECTIONS = 32;
/** How long a TCP connection stays open after its last write, unless it carries a confirmed dialog. */
const CONNECTION_LIFE_MS = 1000;

/** What a fuzz run sent. */
export interface SendReport {
  udp: number;
  tcp: number;
  /** Follow-ups sent by the reactions (ACK, BYE, CANCEL, 200). */
  reactions: number;
  /** Clean BYEs of the dialogs still up at the end. */
  hangups: number;
  connections: number;
  /** Connections the daemon refused or reset. */
  refused: number;
  mutations: Partial<Record<Mutation, number>>;
}

/** Where to send. */
export interface SendTarget {
  host: string;
  port: number;
  seed: number;
  /** Stop after this many messages (0: no count bound). */
  count: number;
  /** Stop after this many ms (0: no time bound). */
  durationMs: number;
  rate: number;
  tcpShare: number;
}

/** One message: well-formed (18 %) or mutated; a request of any method (85 %) or a response. */
function nextMessage(rng: () => number, peer: Peer, report: SendReport, maxBytes: number): { bytes: Buffer; mutated: boolean } {
  const ids = freshIds(rng);
  const roll = rng();
  let text: string;
  if (roll < 0.85) {
    const method = rng() < 0.35 ? 'INVITE' : METHODS[Math.floor(rng() * METHODS.length)]!;
    if (method !== 'INVITE' && rng() < 0.5) ids.toTag = 'fz';
    text = request(method, ids, peer, branch(rng));
  } else {
    text = response([100, 180, 200, 486][Math.floor(rng() * 4)]!, rng() < 0.5 ? 'INVITE' : 'BYE', ids, peer, `SIP/2.0/${peer.transport} ${peer.target};branch=${branch(rng)}`);
  }
  if (rng() < 0.18) return { bytes: Buffer.from(text, 'latin1'), mutated: false };
  const { bytes, applied } = mutate(text, rng, maxBytes);
  for (const m of applied) report.mutations[m] = (report.mutations[m] ?? 0) + 1;
  return { bytes, mutated: true };
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends the fuzz traffic and resolves when it is done (count or time reached), every dialog it
 * confirmed has been sent its BYE and every connection is closed.
 * @param target - the daemon's SIP port and the bounds
 * @returns counts of what was sent, and `close()` for the UDP sockets
 */
export async function sendFuzz(target: SendTarget): Promise<{ report: SendReport; close(): void }> {
  const rng = prng(target.seed);
  const reactions = new Reactions(target.seed, MAX_DATAGRAM);
  const report: SendReport = { udp: 0, tcp: 0, reactions: 0, hangups: 0, connections: 0, refused: 0, mutations: {} };
  const sockets: Array<{ socket: Socket; peer: Peer; send: Send }> = [];
  for (let i = 0; i < UDP_SOCKETS; i++) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const peer: Peer = { target: `${target.host}:${target.port}`, local: `127.0.0.1:${socket.address().port}`, transport: 'UDP' };
    const send: Send = (bytes) => socket.send(bytes, target.port, target.host, () => undefined);
    socket.on('message', (data) => { for (const m of splitMessages(data.toString('latin1'))) reactions.react(m, peer, send); });
    socket.on('error', () => undefined);
    sockets.push({ socket, peer, send });
  }
  const open = new Set<TcpSocket>();
  const senders = new Map<TcpSocket, Send>();
  const closing: Array<Promise<void>> = [];

  const oneShot = (bytes: Buffer): void => {
    const socket = connect({ host: target.host, port: target.port }, () => {
      socket.write(bytes);
      setTimeout(() => socket.end(), CONNECTION_LIFE_MS).unref();
    });
    report.connections++;
    socket.on('error', () => { report.refused++; });
    socket.on('data', () => undefined);
    closing.push(new Promise<void>((resolve) => socket.on('close', () => resolve())));
  };

  const tcpMessage = (): void => {
    if (open.size >= MAX_CONNECTIONS) {
      // the oldest connection that carries no dialog still to be hung up
      const oldest = [...open].find((s) => !reactions.holds(senders.get(s)!));
      if (oldest !== undefined) {
        oldest.destroy();
        open.delete(oldest);
      }
    }
    const socket = connect({ host: target.host, port: target.port });
    report.connections++;
    open.add(socket);
    let peer: Peer = { target: `${target.host}:${target.port}`, local: '127.0.0.1:1', transport: 'TCP' };
    // A mutated message may have broken the stream's framing (a Content-Length beyond its body
    // swallows what follows as body, RFC 3261 §18.3), so after one the clean messages go on a new
    // connection, as they do when this one is gone (RFC 3261 §18.1.1): otherwise a call whose
    // BYE was swallowed would stay up, a fault of the fuzzer and not of the daemon.
    let framed = true;
    const send: Send = (bytes, mutated) => {
      if (mutated) framed = false;
      if (socket.writable && (framed || mutated)) socket.write(bytes);
      else oneShot(bytes);
    };
    senders.set(socket, send);
    let received = '';
    const first = [nextMessage(rng, peer, report, 256 * 1024)];
    while (rng() < 0.3 && first.length < 4) first.push(nextMessage(rng, peer, report, 256 * 1024));
    if (first.some((m) => m.mutated)) framed = false;
    const messages = first.map((m) => m.bytes);
    const abrupt = rng() < 0.2;
    const chunk = rng() < 0.4 ? 1 + Math.floor(rng() * 64) : 0;
    // every draw from the run's PRNG happens here, in sending order, never in a socket callback
    const bytes = Buffer.concat(messages);
    const cut = abrupt ? Math.floor(rng() * bytes.length) : bytes.length;
    closing.push(new Promise<void>((resolve) => {
      socket.on('close', () => { open.delete(socket); resolve(); });
      socket.on('error', () => { report.refused++; });
      socket.on('data', (data) => {
        received += data.toString('latin1');
        const parts = splitMessages(received);
        // keep a message that may still be arriving; react to the complete ones
        received = parts.pop() ?? '';
        for (const m of parts) reactions.react(m, peer, send);
      });
      socket.on('connect', () => {
        peer = { ...peer, local: `127.0.0.1:${socket.localPort}` };
        if (chunk === 0) socket.write(bytes.subarray(0, cut));
        else for (let at = 0; at < cut; at += chunk) socket.write(bytes.subarray(at, Math.min(cut, at + chunk)));
        if (abrupt) { socket.destroy(); return; }
        const closeLater = (): void => {
          if (socket.destroyed) return;
          if (reactions.holds(send) && !finished) { setTimeout(closeLater, CONNECTION_LIFE_MS).unref(); return; }
          socket.end();
          setTimeout(() => socket.destroy(), CONNECTION_LIFE_MS).unref();
        };
        setTimeout(closeLater, CONNECTION_LIFE_MS).unref();
      });
    }));
    report.tcp += messages.length;
  };

  let finished = false;
  const start = Date.now();
  const sent = (): number => report.udp + report.tcp;
  const more = (): boolean => (target.count === 0 || sent() < target.count) && (target.durationMs === 0 || Date.now() - start < target.durationMs);
  while (more()) {
    // pace: as many messages as the rate allows by now, in bursts of at most 50
    const due = Math.min(50, Math.ceil(((Date.now() - start) / 1000) * target.rate) - sent());
    for (let i = 0; i < due && more(); i++) {
      if (rng() < target.tcpShare) tcpMessage();
      else {
        const s = sockets[Math.floor(rng() * sockets.length)]!;
        s.send(nextMessage(rng, s.peer, report, MAX_DATAGRAM).bytes, true);
        report.udp++;
      }
    }
    await wait(10);
  }
  // let the last answers arrive and be reacted to, then hang up what is still up
  await wait(1000);
  finished = true;
  report.hangups = reactions.hangUpAll();
  await wait(1000);
  report.hangups += reactions.hangUpAll();
  for (const socket of open) socket.end();
  await Promise.race([Promise.all(closing), wait(3000)]);
  for (const socket of open) socket.destroy();
  report.reactions = reactions.sent;
  // the UDP sockets stay open (and keep answering the daemon's BYEs) until the caller has settled
  return { report, close: () => { for (const s of sockets) s.socket.close(); } };
}
