/**
 * A small scripted SIP user agent over a real UDP socket for integration
 * tests: it answers INVITEs by a per-call script (ringing, busy, answer
 * with x-headers, digest challenge, silence), answers CANCEL/BYE, can hang
 * up, and keeps every message it received as text so tests can assert
 * what reached the far end. Independent of Patchbay's own SIP code.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
import { READY_TIMEOUT_MS } from './ready.js';

/** One step of answering an INVITE. */
export type Step =
  | { status: number; reason?: string; headers?: Record<string, string>; sdp?: boolean }
  | { wait: number }
  | { challenge: { realm: string; username: string; password: string } };

/** A received message, split up. */
export interface Received {
  text: string;
  method?: string;
  status?: number;
  headers: Map<string, string[]>;
  body: string;
  from: { address: string; port: number };
}

/** One call the UA handled. */
export interface UaCall {
  callId: string;
  invites: Received[];
  acks: Received[];
  byes: Received[];
  cancels: Received[];
  infos: Received[];
  notifies: Received[];
  /** When each message arrived (ms since epoch), by kind. */
  times: { answered?: number; bye?: number };
  /** Set once we sent a 2xx. */
  answered: boolean;
  /** Final status we sent. */
  final?: number;
}

/** A running UA. */
export interface TestUa {
  readonly port: number;
  readonly calls: UaCall[];
  /** The script for the next INVITEs (per call, in order; the last one repeats). */
  script(steps: Step[]): void;
  /** Send BYE on an answered call; resolves with the response status. */
  bye(call: UaCall, headers?: Record<string, string>): Promise<number>;
  /** Send an in-dialog request (INFO, re-INVITE…); resolves with the response status. */
  request(call: UaCall, method: string, headers?: Record<string, string>, body?: string): Promise<number>;
  waitForCall(count: number, timeoutMs?: number): Promise<UaCall[]>;
  waitUntil(check: () => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

const SDP = (port: number): string => ['v=0', `o=ua ${port} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port + 1000} RTP/AVP 0 101`, 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');

function parse(text: string, from: { address: string; port: number }): Received {
  const [head, ...rest] = text.split('\r\n\r\n');
  const lines = head!.split('\r\n');
  const start = lines[0]!;
  const headers = new Map<string, string[]>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i < 0) continue;
    const name = l.slice(0, i).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), l.slice(i + 1).trim()]);
  }
  const m = /^SIP\/2\.0 (\d{3})/.exec(start);
  return m ? { text, status: Number(m[1]), headers, body: rest.join('\r\n\r\n'), from } : { text, method: start.split(' ')[0], headers, body: rest.join('\r\n\r\n'), from };
}

const h = (r: Received, name: string): string => r.headers.get(name.toLowerCase())?.[0] ?? '';

/** Start a UA on 127.0.0.1:port. */
export async function startTestUa(port: number): Promise<TestUa> {
  const socket: Socket = createSocket('udp4');
  const calls: UaCall[] = [];
  const byId = new Map<string, UaCall & { tag: string; scriptIndex: number; invite: Received; challenged: boolean; cseq: number }>();
  let scripts: Step[][] = [[{ status: 180 }, { wait: 50 }, { status: 200, sdp: true }]];
  let scriptCount = 0;
  const pending = new Map<string, (r: Received) => void>();
  const send = (text: string, to: { address: string; port: number }): void => { socket.send(Buffer.from(text), to.port, to.address); };

  const respond = (req: Received, status: number, reason: string, tag: string, extra: Record<string, string> = {}, body = ''): void => {
    const lines = [`SIP/2.0 ${status} ${reason}`];
    for (const v of req.headers.get('via') ?? []) lines.push(`Via: ${v}`);
    lines.push(`From: ${h(req, 'from')}`);
    const to = h(req, 'to');
    lines.push(`To: ${/;tag=/.test(to) || status === 100 ? to : `${to};tag=${tag}`}`);
    lines.push(`Call-ID: ${h(req, 'call-id')}`, `CSeq: ${h(req, 'cseq')}`, `Contact: <sip:ua@127.0.0.1:${port}>`);
    for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
    if (body) lines.push('Content-Type: application/sdp');
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
    send(lines.join('\r\n'), req.from);
  };

  const runScript = async (call: UaCall & { tag: string; scriptIndex: number; invite: Received; challenged: boolean }, req: Received): Promise<void> => {
    const steps = scripts[Math.min(call.scriptIndex, scripts.length - 1)]!;
    for (const step of steps) {
      if (call.final !== undefined) return;
      if ('wait' in step) { await new Promise((r) => setTimeout(r, step.wait)); continue; }
      if ('challenge' in step) {
        if (!call.challenged) {
          call.challenged = true;
          respond(req, 401, 'Unauthorized', call.tag, { 'WWW-Authenticate': `Digest realm="${step.challenge.realm}", nonce="${randomBytes(8).toString('hex')}", algorithm=MD5` });
          return;
        }
        const auth = h(req, 'authorization');
        const field = (n: string): string => new RegExp(`${n}="?([^",]+)"?`).exec(auth)?.[1] ?? '';
        const ha1 = createHash('md5').update(`${step.challenge.username}:${step.challenge.realm}:${step.challenge.password}`).digest('hex');
        const ha2 = createHash('md5').update(`INVITE:${field('uri')}`).digest('hex');
        const qop = field('qop');
        const expected = createHash('md5').update(qop ? `${ha1}:${field('nonce')}:${field('nc')}:${field('cnonce')}:${qop}:${ha2}` : `${ha1}:${field('nonce')}:${ha2}`).digest('hex');
        if (field('username') !== step.challenge.username || field('response') !== expected) {
          call.final = 403;
          respond(req, 403, 'Forbidden', call.tag);
          return;
        }
        continue;
      }
      if (step.status >= 200) call.final = step.status;
      if (step.status >= 200 && step.status < 300) { call.answered = true; call.times.answered = Date.now(); }
      respond(req, step.status, step.reason ?? (step.status === 200 ? 'OK' : step.status === 180 ? 'Ringing' : 'Response'), call.tag, step.headers ?? {}, step.sdp ? SDP(port) : '');
    }
  };

  socket.on('message', (buf, rinfo) => {
    const msg = parse(buf.toString('utf8'), { address: rinfo.address, port: rinfo.port });
    const callId = h(msg, 'call-id');
    if (msg.status !== undefined) {
      const key = `${callId} ${h(msg, 'cseq')}`;
      if (msg.status >= 200) { pending.get(key)?.(msg); pending.delete(key); }
      return;
    }
    let call = byId.get(callId);
    if (msg.method === 'INVITE' && !call) {
      call = { callId, invites: [], acks: [], byes: [], cancels: [], infos: [], notifies: [], times: {}, answered: false, tag: randomBytes(4).toString('hex'), scriptIndex: scriptCount++, invite: msg, challenged: false, cseq: 1 };
      byId.set(callId, call);
      calls.push(call);
    }
    if (!call) {
      respond(msg, 481, 'Call/Transaction Does Not Exist', 'x');
      return;
    }
    switch (msg.method) {
      case 'INVITE': {
        const isReinvite = /;tag=/.test(h(msg, 'to'));
        call.invites.push(msg);
        if (isReinvite) { respond(msg, 200, 'OK', call.tag, {}, SDP(port)); return; }
        respond(msg, 100, 'Trying', call.tag);
        call.invite = msg;
        if (call.final !== undefined && !call.challenged) return; // retransmission
        void runScript(call, msg);
        return;
      }
      case 'ACK': call.acks.push(msg); return;
      case 'CANCEL':
        call.cancels.push(msg);
        respond(msg, 200, 'OK', call.tag);
        if (call.final === undefined) { call.final = 487; respond(call.invite, 487, 'Request Terminated', call.tag); }
        return;
      case 'NOTIFY': call.notifies.push(msg); respond(msg, 200, 'OK', call.tag); return;
      case 'BYE': call.times.bye = Date.now(); call.byes.push(msg); respond(msg, 200, 'OK', call.tag, { 'X-Bye-Reason': 'callee-done' }); return;
      case 'INFO': call.infos.push(msg); respond(msg, 200, 'OK', call.tag); return;
      default: respond(msg, 200, 'OK', call.tag);
    }
  });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));

  const inDialog = (call: UaCall, method: string, headers: Record<string, string> = {}, body = ''): Promise<number> => {
    const c = byId.get(call.callId)!;
    const inv = c.invite;
    const contact = /<([^>]+)>/.exec(h(inv, 'contact'))?.[1] ?? '';
    const m = /@([^:;>]+):?(\d+)?/.exec(contact);
    const to = { address: m?.[1] ?? '127.0.0.1', port: Number(m?.[2] ?? 5060) };
    c.cseq += 1;
    const cseq = `${c.cseq} ${method}`;
    const lines = [`${method} ${contact} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`, 'Max-Forwards: 70',
      `From: ${h(inv, 'to')};tag=${c.tag}`, `To: ${h(inv, 'from')}`, `Call-ID: ${call.callId}`, `CSeq: ${cseq}`, `Contact: <sip:ua@127.0.0.1:${port}>`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { pending.delete(`${call.callId} ${cseq}`); resolve(408); }, 5000);
      pending.set(`${call.callId} ${cseq}`, (r) => {
        clearTimeout(timer);
        if (method === 'INVITE' && r.status! < 300) {
          const ack = [`ACK ${contact} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`, 'Max-Forwards: 70',
            `From: ${h(inv, 'to')};tag=${c.tag}`, `To: ${h(r, 'to')}`, `Call-ID: ${call.callId}`, `CSeq: ${c.cseq} ACK`, 'Content-Length: 0', '', ''];
          send(ack.join('\r\n'), to);
        }
        resolve(r.status!);
      });
      send(lines.join('\r\n'), to);
    });
  };

  const ua: TestUa = {
    port,
    calls,
    script(steps) { scripts = [steps]; scriptCount = 0; },
    bye: (call, headers) => inDialog(call, 'BYE', headers),
    request: inDialog,
    async waitForCall(count, timeoutMs = READY_TIMEOUT_MS) {
      await ua.waitUntil(() => calls.length >= count, timeoutMs);
      return calls;
    },
    async waitUntil(check, timeoutMs = READY_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    },
    close() { socket.close(); },
  };
  return ua;
}

/** A header of a received message. */
export function header(r: Received | undefined, name: string): string {
  return r ? h(r, name) : '';
}
