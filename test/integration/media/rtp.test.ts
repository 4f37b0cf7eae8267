/**
 * Real RTP through a real rtpengine, with the test RTP endpoint: two parties
 * anchored by offer/answer hear each other; `play media` of an espeak-ng WAV
 * is heard by the selected party for about the file's duration; RFC 4733
 * digits are reported by rtpengine's DTMF log; `play DTMF` arrives at the
 * other party as RFC 4733 events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../../runtime/log.js';
import { MediaEngine, type DtmfEvent, type MediaCall } from '../../../runtime/media/engine.js';
import { Tts } from '../../../runtime/media/tts.js';
import { RtpEndpoint, type RtpTarget } from '../../support/rtp/endpoint.js';
import { maxNormalisedCorrelation } from '../../support/rtp/g711.js';
import { describeMedia } from '../../support/rtp/rtpengine.js';
import { audioSdp, audioTarget, type TestCodec } from '../../support/rtp/sdp.js';
import { espeak, readWav, toNarrowbandWav } from '../../support/rtp/wav.js';
import { waitUntil } from '../../support/wait.js';

/** A caller `a` and a callee `b` anchored in rtpengine: where each must send. */
interface Anchored { call: MediaCall; a: RtpEndpoint; b: RtpEndpoint; aSendsTo: RtpTarget; bSendsTo: RtpTarget }

/** Start and end (ms) of the non-silent part of 8 kHz audio: 20 ms frames above an RMS threshold. */
function audibleSpan(samples: Int16Array, rms = 300): { startMs: number; endMs: number } | undefined {
  let first = -1;
  let last = -1;
  for (let f = 0; (f + 1) * 160 <= samples.length; f++) {
    let e = 0;
    for (let i = f * 160; i < (f + 1) * 160; i++) e += (samples[i] as number) ** 2;
    if (Math.sqrt(e / 160) > rms) {
      if (first < 0) first = f;
      last = f;
    }
  }
  return first < 0 ? undefined : { startMs: first * 20, endMs: (last + 1) * 20 };
}

describeMedia('RTP through rtpengine', () => {
  let engine: MediaEngine;
  let dir: string;
  const open: Array<{ close(): void }> = [];

  beforeAll(async () => {
    const base = 42000 + 2 * Math.floor(Math.random() * 4000);
    engine = await MediaEngine.start({ mode: 'embedded', logger: createLogger('warn'), portMin: base, portMax: base + 199 });
    dir = mkdtempSync(join(tmpdir(), 'pb-rtp-'));
  });
  afterEach(() => { for (const o of open.splice(0)) o.close(); });
  afterAll(async () => {
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function anchor(codecsA: TestCodec[] = ['PCMU', 'PCMA'], codecsB: TestCodec[] = ['PCMU']): Promise<Anchored> {
    const [a, b] = await Promise.all([RtpEndpoint.open(), RtpEndpoint.open()]);
    open.push(a, b);
    const call = await engine.allocate();
    open.push({ close: () => void call.release() });
    const offer = await call.ng.offer({ ...call.party('a'), sdp: audioSdp('127.0.0.1', a.port, codecsA), flags: ['inject DTMF'] });
    const answer = await call.ng.answer({ ...call.party('a', 'b'), toTag: 'b', sdp: audioSdp('127.0.0.1', b.port, codecsB), flags: ['inject DTMF'] });
    return { call, a, b, aSendsTo: audioTarget(answer.sdp), bSendsTo: audioTarget(offer.sdp) };
  }

  it.each([['PCMU', 0], ['PCMA', 8]] as const)('two endpoints through rtpengine offer/answer hear each other (%s)', async (codec, pt) => {
    const { a, b, aSendsTo, bSendsTo } = await anchor([codec], [codec]);
    espeak('The quick brown fox jumps over the lazy dog', join(dir, 'fox.wav'));
    const speech = toNarrowbandWav(join(dir, 'fox.wav'), join(dir, 'fox8k.wav')).samples;
    const reply = speech.subarray(0, 16000);
    await Promise.all([a.sendAudio(speech, aSendsTo, pt), b.sendAudio(reply, bSendsTo, pt)]);
    await waitUntil('b heard a', () => b.audio().length >= speech.length - 480);
    await waitUntil('a heard b', () => a.audio().length >= reply.length - 480);
    expect(maxNormalisedCorrelation(speech.subarray(1600, speech.length - 1600), b.audio()).peak).toBeGreaterThanOrEqual(0.9);
    expect(maxNormalisedCorrelation(reply.subarray(1600, 14400), a.audio()).peak).toBeGreaterThanOrEqual(0.9);
    expect(new Set(b.packets.map((p) => p.payloadType))).toEqual(new Set([pt]));
  });

  it('play media of an espeak-ng WAV is heard by the selected party with about the file\'s duration', async () => {
    const { call, a, b, aSendsTo, bSendsTo } = await anchor();
    await Promise.all([a.sendSilence(100, aSendsTo), b.sendSilence(100, bSendsTo)]);
    const file = join(dir, 'welcome.wav');
    const wav = espeak('Welcome to Patchbay. Please hold.', file);
    a.reset();
    const played = await call.ng.playMedia({ ...call.party('a'), file });
    expect(Math.abs((played.durationMs ?? 0) - wav.durationMs)).toBeLessThan(60);
    const frames = Math.floor(wav.durationMs / 20);
    await waitUntil('the prompt arrived', () => a.packets.length >= frames - 2);
    const heard = a.audio();
    const span = audibleSpan(heard);
    const spoken = audibleSpan(toNarrowbandWav(file, join(dir, 'welcome8k.wav')).samples);
    expect(span).toBeDefined();
    expect(spoken).toBeDefined();
    // the audible part lasts as long as in the file (give or take two frames)
    expect(Math.abs((span!.endMs - span!.startMs) - (spoken!.endMs - spoken!.startMs))).toBeLessThanOrEqual(40);
    const reference = readWav(join(dir, 'welcome8k.wav')).samples;
    expect(maxNormalisedCorrelation(reference.subarray(800, reference.length - 800), heard).peak).toBeGreaterThanOrEqual(0.9);
  });

  it('a Tts prompt (SSML stripped, Polly voice mapped) plays through rtpengine for its reported duration', async () => {
    const { call, a, b, aSendsTo, bSendsTo } = await anchor();
    await Promise.all([a.sendSilence(100, aSendsTo), b.sendSilence(100, bSendsTo)]);
    const tts = new Tts({ cacheDir: join(dir, 'tts') });
    const speech = await tts.synthesize('<speak>Press <say-as interpret-as="digits">1</say-as> for sales.</speak>', 'Polly.Joanna', 'en-US');
    if (speech === undefined) throw new Error('nothing synthesised');
    a.reset();
    const played = await call.ng.playMedia({ ...call.party('a'), file: speech.path });
    expect(Math.abs((played.durationMs ?? 0) - speech.durationMs)).toBeLessThan(60);
    await waitUntil('the prompt arrived', () => a.packets.length >= Math.floor(speech.durationMs / 20) - 2);
    const span = audibleSpan(a.audio());
    expect(span).toBeDefined();
    expect(span!.endMs - span!.startMs).toBeGreaterThan(speech.durationMs / 2);
  });

  it('RFC 4733 digits sent by a party are reported by rtpengine\'s DTMF log, in order, with its tag', async () => {
    const { call, a, b, aSendsTo, bSendsTo } = await anchor();
    const got: DtmfEvent[] = [];
    call.on('dtmf', (e: DtmfEvent) => got.push(e));
    await Promise.all([a.sendSilence(100, aSendsTo), b.sendSilence(100, bSendsTo)]);
    await a.sendDigits('1234*#', aSendsTo);
    await waitUntil('six digits reported', () => got.length === 6);
    expect(got.map((e) => e.digit).join('')).toBe('1234*#');
    expect(got.every((e) => e.sourceTag === 'a')).toBe(true);
    // and passed through to the other party
    await waitUntil('b received the events', () => b.events.length === 6);
    expect(b.digits()).toBe('1234*#');
  });

  it('play DTMF arrives at the other party as RFC 4733 events', async () => {
    const { call, a, b, aSendsTo, bSendsTo } = await anchor();
    // rtpengine injects into a stream it has seen (no SSRC context before): both sides talk first
    await Promise.all([a.sendSilence(100, aSendsTo), b.sendSilence(100, bSendsTo)]);
    b.reset();
    await call.ng.playDtmf({ ...call.party('a'), code: '7', durationMs: 200 });
    await call.ng.playDtmf({ ...call.party('a'), code: '#' });
    // rtpengine sends the injected events on the party's outgoing stream, timed by its packets
    const talking = a.sendSilence(1500, aSendsTo);
    await waitUntil('b received 7 and #', () => b.events.length >= 2);
    await talking;
    expect(b.digits()).toBe('7#');
    expect(b.events[0]?.duration).toBeGreaterThanOrEqual(1400);
    expect(a.events).toHaveLength(0);
  });
});
