/**
 * The NG client against a real rtpengine started by the test: every command it
 * offers is accepted by rtpengine 10.5, and rtpengine's own errors come back
 * as NgCommandError.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NgClient } from '../../../runtime/media/ng-client.js';
import { NgCommandError } from '../../../runtime/media/errors.js';
import { describeMedia, startRtpengine, type TestRtpengine } from '../../support/rtp/rtpengine.js';
import { audioSdp, audioTarget } from '../../support/rtp/sdp.js';

describeMedia('NgClient against rtpengine', () => {
  let engine: TestRtpengine;
  let client: NgClient;
  let dir: string;

  beforeAll(async () => {
    engine = await startRtpengine();
    client = new NgClient({ host: '127.0.0.1', port: engine.ngPort });
    dir = mkdtempSync(join(tmpdir(), 'pb-ng-'));
  });
  afterAll(async () => {
    client?.close();
    await engine?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pings', async () => {
    await expect(client.ping()).resolves.toBeUndefined();
  });

  it('anchors a call: offer and answer rewrite both SDPs to rtpengine ports', async () => {
    const callId = `ng-anchor-${Date.now()}`;
    const offer = await client.offer({ callId, fromTag: 'caller', sdp: audioSdp('127.0.0.1', 40000), flags: ['inject DTMF'] });
    const toCallee = audioTarget(offer.sdp);
    expect(toCallee.address).toBe('127.0.0.1');
    expect(toCallee.port).toBeGreaterThanOrEqual(engine.portMin);
    expect(toCallee.port).toBeLessThanOrEqual(engine.portMax);
    expect(toCallee.payloadTypes).toEqual([0, 8, 101]);
    const answer = await client.answer({ callId, fromTag: 'caller', toTag: 'callee', sdp: audioSdp('127.0.0.1', 40002, ['PCMU']), flags: ['inject DTMF'] });
    const toCaller = audioTarget(answer.sdp);
    expect(toCaller.port).not.toBe(toCallee.port);
    expect(toCaller.payloadTypes[0]).toBe(0);

    const info = await client.query({ callId });
    expect(Object.keys(info.tags as object).sort()).toEqual(['callee', 'caller']);

    for (const p of [{ callId, fromTag: 'caller' }, { callId, fromTag: 'callee' }]) {
      await client.blockMedia(p);
      await client.unblockMedia(p);
      await client.blockDtmf(p);
      await client.unblockDtmf(p);
    }
    // rtpengine injects DTMF into a stream it has seen: before any RTP it refuses, and says why
    await expect(client.playDtmf({ callId, fromTag: 'caller', code: '5' })).rejects.toMatchObject({ reason: expect.stringMatching(/SSRC/) });
    await client.delete({ callId });
    await expect(client.query({ callId })).rejects.toBeInstanceOf(NgCommandError);
  });

  it('plays a WAV and reports its duration, then stops it', async () => {
    const wav = join(dir, 'tone.wav');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', wav, 'synth', '1.5', 'sine', '440']);
    const callId = `ng-play-${Date.now()}`;
    await client.offer({ callId, fromTag: 'a', sdp: audioSdp('127.0.0.1', 40010) });
    await client.answer({ callId, fromTag: 'a', toTag: 'b', sdp: audioSdp('127.0.0.1', 40012) });
    const played = await client.playMedia({ callId, fromTag: 'a', file: wav });
    expect(played.durationMs).toBeGreaterThanOrEqual(1400);
    expect(played.durationMs).toBeLessThanOrEqual(1600);
    await expect(client.stopMedia({ callId, fromTag: 'a' })).resolves.toMatchObject({ result: 'ok' });
    await client.delete({ callId });
  });

  it('reports rtpengine\'s refusal clearly: unknown call, missing file', async () => {
    const err = await client.playMedia({ callId: 'no-such-call', fromTag: 'x', file: '/nonexistent.wav' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NgCommandError);
    expect((err as Error).message).toMatch(/rtpengine refused "play media": .*call/i);
    const callId = `ng-missing-${Date.now()}`;
    await client.offer({ callId, fromTag: 'a', sdp: audioSdp('127.0.0.1', 40020) });
    await client.answer({ callId, fromTag: 'a', toTag: 'b', sdp: audioSdp('127.0.0.1', 40022) });
    await expect(client.playMedia({ callId, fromTag: 'a', file: join(dir, 'missing.wav') })).rejects.toBeInstanceOf(NgCommandError);
    await client.delete({ callId });
  });
});
