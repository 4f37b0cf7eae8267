/**
 * Well-formed SIP messages the network fuzzer starts from (RFC 3261 §7 and §20), one per method
 * Patchbay handles plus responses, each with fresh Call-ID, tags and branch drawn from the seeded
 * PRNG, so a run's message sequence depends only on its seed.
 */

/** Where the messages claim to come from and go to. */
export interface Peer {
  /** The daemon, as host:port. */
  target: string;
  /** The sender's own address, as host:port (the Via sent-by and Contact). */
  local: string;
  transport: 'UDP' | 'TCP';
}

/** Request methods of the templates; the mutator adds made-up ones. */
export const METHODS = ['INVITE', 'OPTIONS', 'BYE', 'CANCEL', 'ACK', 'REGISTER', 'INFO', 'UPDATE', 'REFER', 'NOTIFY', 'MESSAGE', 'PRACK', 'SUBSCRIBE'] as const;

/** The identifiers of one dialog the fuzzer makes up (or learns from a response, see ./ua.ts). */
export interface DialogIds {
  callId: string;
  fromTag: string;
  toTag?: string;
  cseq: number;
}

const SDP = 'v=0\r\no=fuzz 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n';

/** @return a random token of `length` characters from [a-z0-9]. */
export function token(rng: () => number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(rng() * 36)];
  return text;
}

/** @return fresh dialog identifiers. */
export function freshIds(rng: () => number): DialogIds {
  return { callId: `fz-${token(rng, 12)}`, fromTag: token(rng, 8), cseq: 1 + Math.floor(rng() * 1000) };
}

/**
 * A well-formed request.
 * @param method - request method
 * @param ids - Call-ID, tags and CSeq
 * @param peer - addresses
 * @param branch - the Via branch (RFC 3261 §8.1.1.7 magic cookie included)
 */
export function request(method: string, ids: DialogIds, peer: Peer, branch: string): string {
  const body = method === 'INVITE' || method === 'UPDATE' ? SDP : method === 'MESSAGE' ? 'hello' : method === 'INFO' ? 'Signal=5\r\nDuration=160\r\n' : '';
  const type = method === 'INVITE' || method === 'UPDATE' ? 'application/sdp' : method === 'MESSAGE' ? 'text/plain' : method === 'INFO' ? 'application/dtmf-relay' : '';
  const cseqMethod = method === 'ACK' || method === 'CANCEL' ? method : method;
  const lines = [
    `${method} sip:callee@${peer.target} SIP/2.0`,
    `Via: SIP/2.0/${peer.transport} ${peer.local};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: "fuzz" <sip:fuzz@${peer.local}>;tag=${ids.fromTag}`,
    `To: <sip:callee@${peer.target}>${ids.toTag ? `;tag=${ids.toTag}` : ''}`,
    `Call-ID: ${ids.callId}`,
    `CSeq: ${ids.cseq} ${cseqMethod}`,
    `Contact: <sip:fuzz@${peer.local};transport=${peer.transport.toLowerCase()}>`,
    ...(method === 'REFER' ? [`Refer-To: <sip:other@${peer.target}>`] : []),
    ...(method === 'NOTIFY' || method === 'SUBSCRIBE' ? ['Event: refer', 'Subscription-State: active;expires=60'] : []),
    ...(method === 'REGISTER' ? ['Expires: 3600'] : []),
    ...(method === 'PRACK' ? ['RAck: 1 1 INVITE'] : []),
    ...(type ? [`Content-Type: ${type}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * A well-formed response, as if the fuzzer were the callee or answered the daemon's request.
 * @param status - status code
 * @param method - the CSeq method it answers
 * @param ids - Call-ID, tags and CSeq
 * @param peer - addresses
 * @param via - the Via header value to echo (a made-up one when the fuzzer answers nothing)
 */
export function response(status: number, method: string, ids: DialogIds, peer: Peer, via: string): string {
  const reason = status === 200 ? 'OK' : status === 180 ? 'Ringing' : status === 100 ? 'Trying' : 'Whatever';
  const body = status === 200 && method === 'INVITE' ? SDP : '';
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    `Via: ${via}`,
    `From: <sip:callee@${peer.target}>;tag=${ids.fromTag}`,
    `To: <sip:fuzz@${peer.local}>;tag=${ids.toTag ?? 'fz'}`,
    `Call-ID: ${ids.callId}`,
    `CSeq: ${ids.cseq} ${method}`,
    `Contact: <sip:fuzz@${peer.local}>`,
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** @return a branch with the RFC 3261 magic cookie. */
export function branch(rng: () => number): string {
  return `z9hG4bK-fz${token(rng, 10)}`;
}
