/** SDP of a plain audio endpoint for the media tests (RFC 4566, RFC 3551 payload types, RFC 4733 events). */

/** Codecs the test endpoint can offer. */
export type TestCodec = 'PCMU' | 'PCMA';

const PT: Record<TestCodec, number> = { PCMU: 0, PCMA: 8 };

/**
 * An audio offer/answer for `address:port` with the given codecs (in order) and telephone-event/8000 on 101.
 * @param sessionId - o= session id (any digits)
 */
export function audioSdp(address: string, port: number, codecs: TestCodec[] = ['PCMU', 'PCMA'], sessionId = '1'): string {
  const pts = codecs.map((c) => PT[c]);
  return [
    'v=0',
    `o=- ${sessionId} 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP ${[...pts, 101].join(' ')}`,
    ...codecs.map((c) => `a=rtpmap:${PT[c]} ${c}/8000`),
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** The first audio media's connection address and port in an SDP (what rtpengine tells a party to send to). */
export function audioTarget(sdp: string): { address: string; port: number; payloadTypes: number[] } {
  const c = /^c=IN IP[46] (\S+)/m.exec(sdp);
  const m = /^m=audio (\d+) \S+ ([\d ]+)/m.exec(sdp);
  if (c?.[1] === undefined || m?.[1] === undefined || m[2] === undefined) throw new Error(`no audio media in SDP:\n${sdp}`);
  return { address: c[1], port: Number(m[1]), payloadTypes: m[2].trim().split(/\s+/).map(Number) };
}
