/**
 * The NG client against a scripted UDP peer standing in for rtpengine: cookies,
 * retransmission, timeouts and every kind of bad reply.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import bencode from 'bencode';
import { afterEach, describe, expect, it } from 'vitest';
import { NgClient } from '../../../runtime/media/ng-client.js';
import { NgClosedError, NgCommandError, NgMalformedReplyError, NgTimeoutError } from '../../../runtime/media/errors.js';
import { waitUntil } from '../../support/wait.js';

interface Received { cookie: string; dict: Record<string, unknown>; from: RemoteInfo }

/** A UDP peer that records NG requests and answers through `reply`. */
async function fakeEngine(reply: (r: Received, sock: Socket) => void): Promise<{ port: number; got: Received[]; close(): void }> {
  const sock = createSocket('udp4');
  const got: Received[] = [];
  sock.on('message', (msg, from) => {
    const space = msg.indexOf(0x20);
    const raw = bencode.decode(msg.subarray(space + 1)) as Record<string, unknown>;
    const dict: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) dict[k] = v instanceof Uint8Array ? Buffer.from(v).toString() : v;
    const r = { cookie: msg.toString('latin1', 0, space), dict, from };
    got.push(r);
    reply(r, sock);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return { port: sock.address().port, got, close: () => sock.close() };
}

function send(sock: Socket, r: Received, body: Uint8Array | string): void {
  sock.send(Buffer.concat([Buffer.from(`${r.cookie} `), Buffer.from(body)]), r.from.port, r.from.address);
}

const closers: Array<() => void> = [];
afterEach(() => { for (const c of closers.splice(0)) c(); });

async function rig(reply: (r: Received, sock: Socket) => void, opts: { timeoutMs?: number; retransmitMs?: number } = {}) {
  const engine = await fakeEngine(reply);
  const client = new NgClient({ host: '127.0.0.1', port: engine.port, timeoutMs: opts.timeoutMs ?? 5000, retransmitMs: opts.retransmitMs ?? 1000 });
  closers.push(() => client.close(), () => engine.close());
  return { engine, client };
}

describe('NgClient', () => {
  it('sends the command bencoded with a cookie and resolves with the reply', async () => {
    const { engine, client } = await rig((r, s) => send(s, r, bencode.encode({ result: 'ok', sdp: 'v=0\r\n' })));
    const out = await client.offer({ callId: 'c1', fromTag: 'ft', sdp: 'v=0\r\n', flags: ['inject DTMF'] });
    expect(out.sdp).toBe('v=0\r\n');
    expect(engine.got[0]?.dict).toMatchObject({ command: 'offer', 'call-id': 'c1', 'from-tag': 'ft', sdp: 'v=0\r\n' });
    expect(engine.got[0]?.dict).not.toHaveProperty('to-tag');
  });

  it('uses a different cookie for every command and for every client', async () => {
    const { engine, client } = await rig((r, s) => send(s, r, bencode.encode({ result: 'pong' })));
    const other = new NgClient({ host: '127.0.0.1', port: engine.port });
    closers.push(() => other.close());
    await Promise.all([client.ping(), client.ping(), other.ping(), other.ping()]);
    const cookies = engine.got.map((g) => g.cookie);
    expect(new Set(cookies).size).toBe(4);
    for (const c of cookies) expect(c).toMatch(/^[0-9a-z_]+$/);
  });

  it('retransmits with the same cookie until a reply arrives', async () => {
    const { engine, client } = await rig((r, s) => { if (engine.got.length >= 3) send(s, r, bencode.encode({ result: 'pong' })); }, { retransmitMs: 30 });
    await client.ping();
    expect(engine.got.length).toBeGreaterThanOrEqual(3);
    expect(new Set(engine.got.map((g) => g.cookie)).size).toBe(1);
  });

  it('rejects with NgTimeoutError when nothing answers', async () => {
    const { client } = await rig(() => undefined, { timeoutMs: 200, retransmitMs: 50 });
    const err = await client.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NgTimeoutError);
    expect((err as NgTimeoutError).code).toBe('PB_ERR_NG_TIMEOUT');
    expect((err as Error).message).toMatch(/did not answer "ping" within 200 ms/);
    expect(client.inFlight).toBe(0);
  });

  it('turns result: error into NgCommandError with rtpengine\'s reason', async () => {
    const { client } = await rig((r, s) => send(s, r, bencode.encode({ result: 'error', 'error-reason': 'Unknown call-id' })));
    const err = await client.query({ callId: 'nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NgCommandError);
    expect(err).toMatchObject({ code: 'PB_ERR_NG_ERROR', command: 'query', reason: 'Unknown call-id' });
  });

  it('treats another non-success result (load limit) as an error', async () => {
    const { client } = await rig((r, s) => send(s, r, bencode.encode({ result: 'load limit' })));
    await expect(client.ping()).rejects.toMatchObject({ code: 'PB_ERR_NG_ERROR', reason: 'result "load limit"' });
  });

  it.each([
    ['garbage', 'not bencode'],
    ['a list', 'l4:pinge'],
    ['no result', 'd3:fooi1ee'],
    ['trailing bytes', 'd6:result4:pongeXX'],
    ['truncated', 'd6:result4:po'],
  ])('rejects a malformed reply (%s) with NgMalformedReplyError', async (_name, body) => {
    const { client } = await rig((r, s) => send(s, r, body));
    const err = await client.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NgMalformedReplyError);
    expect((err as Error).message).toMatch(/malformed rtpengine reply to "ping"/);
  });

  it('rejects an offer whose reply has no SDP', async () => {
    const { client } = await rig((r, s) => send(s, r, bencode.encode({ result: 'ok' })));
    await expect(client.offer({ callId: 'c', fromTag: 'f', sdp: 'v=0' })).rejects.toBeInstanceOf(NgMalformedReplyError);
  });

  it('drops a reply with an unknown cookie and still matches the right one', async () => {
    const { client } = await rig((r, s) => {
      s.send('bogus_cookie d6:result4:ponge', r.from.port, r.from.address);
      s.send('nospace', r.from.port, r.from.address);
      send(s, r, bencode.encode({ result: 'ok', duration: 1234 }));
    });
    await expect(client.playMedia({ callId: 'c', fromTag: 'f', file: '/x.wav' })).resolves.toMatchObject({ durationMs: 1234 });
  });

  it('sends play DTMF, block and unblock with NG keys', async () => {
    const { engine, client } = await rig((r, s) => send(s, r, bencode.encode({ result: 'ok' })));
    await client.playDtmf({ callId: 'c', fromTag: 'f', code: '#', durationMs: 120, pauseMs: 80 });
    await client.blockDtmf({ callId: 'c', fromTag: 'f' });
    await client.blockMedia({ callId: 'c', extra: { flags: ['all'] } });
    expect(engine.got.map((g) => g.dict.command)).toEqual(['play DTMF', 'block DTMF', 'block media']);
    expect(engine.got[0]?.dict).toMatchObject({ code: '#', duration: 120, pause: 80 });
  });

  it('rejects pending and later commands once closed', async () => {
    const { client } = await rig(() => undefined);
    const pending = client.ping();
    client.close();
    await expect(pending).rejects.toBeInstanceOf(NgClosedError);
    await expect(client.ping()).rejects.toBeInstanceOf(NgClosedError);
  });

  it('refuses a host that is not an IP address and a bad port', () => {
    expect(() => new NgClient({ host: 'localhost', port: 2223 })).toThrow(/must be an IP address/);
    expect(() => new NgClient({ host: '127.0.0.1', port: 70000 })).toThrow(/out of range/);
  });

  it('ignores a late reply after a timeout', async () => {
    let late: (() => void) | undefined;
    const { client } = await rig((r, s) => { late = () => send(s, r, bencode.encode({ result: 'pong' })); }, { timeoutMs: 100, retransmitMs: 1000 });
    await expect(client.ping()).rejects.toBeInstanceOf(NgTimeoutError);
    await waitUntil('request seen', () => late !== undefined);
    late?.();
    expect(client.inFlight).toBe(0);
  });
});
