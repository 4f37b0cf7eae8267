/**
 * Text to speech: Twilio voice names to local voices, SSML to text, and
 * espeak-ng synthesis with its on-disk cache (real espeak-ng; skipped without
 * it unless CI=true).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TtsError } from '../../../runtime/media/errors.js';
import { MAX_SAY_CHARS, Tts, ssmlToText } from '../../../runtime/media/tts.js';
import { resolveVoice } from '../../../runtime/media/voices.js';
import { readWav } from '../../support/rtp/wav.js';

const espeakInstalled = ['/usr/bin/espeak-ng', '/usr/local/bin/espeak-ng'].some((p) => existsSync(p));

describe('resolveVoice', () => {
  it.each([
    [undefined, undefined, 'en-us+m3', 'en-US'],
    ['man', 'en-GB', 'en-gb+m3', 'en-GB'],
    ['woman', 'fr-FR', 'fr-fr+f3', 'fr-FR'],
    ['alice', 'es-MX', 'es-419+f2', 'es-MX'],
    ['alice', 'pt-BR', 'pt-br+f2', 'pt-BR'],
    ['alice', 'zh-HK', 'yue+f2', 'zh-HK'],
    ['alice', 'sv-SE', 'sv+f2', 'sv-SE'],
    ['Polly.Joanna', undefined, 'en-us+f3', 'en-US'],
    ['Polly.Matthew-Neural', 'en-US', 'en-us+m3', 'en-US'],
    ['Polly.Celine', 'en-US', 'fr-fr+f3', 'fr-FR'],
    ['Polly.Hans', undefined, 'de+m3', 'de-DE'],
    ['Google.de-DE-Standard-A', 'en-US', 'de+f3', 'de-DE'],
    ['Google.en-GB-Neural2-B', undefined, 'en-gb+f3', 'en-GB'],
  ])('voice %s, language %s speaks as %s', (voice, language, espeak, lang) => {
    const r = resolveVoice(voice, language);
    expect(r).toEqual({ espeak, language: lang });
  });

  it('says what it substituted for an unknown voice or language', () => {
    expect(resolveVoice('robot', 'en-US')).toMatchObject({ espeak: 'en-us+m3', fallback: expect.stringMatching(/unknown voice "robot"/) });
    expect(resolveVoice('Polly.Nobody', 'de-DE')).toMatchObject({ espeak: 'de+f3', fallback: expect.stringMatching(/unknown Polly voice/) });
    expect(resolveVoice('man', 'xx-YY')).toMatchObject({ espeak: 'en-us+m3', fallback: expect.stringMatching(/no local voice for language "xx-YY"/) });
  });
});

describe('ssmlToText', () => {
  it('keeps the spoken text of SSML and never its markup', () => {
    expect(ssmlToText('<speak>Hello <break time="1s"/><say-as interpret-as="digits">123</say-as> <sub alias="World Wide Web">WWW</sub> &amp; <emphasis level="strong">more</emphasis>!</speak>'))
      .toBe('Hello , 123 World Wide Web & more !');
    expect(ssmlToText('<prosody rate="slow">Your code is</prosody> <phoneme alphabet="ipa" ph="tə">to</phoneme> &#x41;&#66;')).toBe('Your code is to AB');
    expect(ssmlToText('plain text, no tags')).toBe('plain text, no tags');
    expect(ssmlToText('<speak> <break/> </speak>')).toBe('');
  });
});

describe.skipIf(!espeakInstalled && process.env.CI !== 'true')('Tts (espeak-ng)', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
  const cacheDir = (): string => { const d = mkdtempSync(join(tmpdir(), 'pb-tts-')); dirs.push(d); return d; };

  it('synthesises a 16-bit mono WAV whose duration it reports, then serves it from the cache', async () => {
    const tts = new Tts({ cacheDir: cacheDir() });
    const first = await tts.synthesize('Thank you for calling. Please hold.', 'woman', 'en-US');
    expect(first?.cached).toBe(false);
    const wav = readWav(first!.path);
    expect(wav.channels).toBe(1);
    expect(wav.samples.length).toBeGreaterThan(0);
    expect(Math.abs(first!.durationMs - wav.durationMs)).toBeLessThan(2);
    expect(first!.durationMs).toBeGreaterThan(1000);
    const again = await tts.synthesize('Thank you for calling. Please hold.', 'woman', 'en-US');
    expect(again).toEqual({ ...first, cached: true });
    const otherVoice = await tts.synthesize('Thank you for calling. Please hold.', 'man', 'en-US');
    expect(otherVoice?.path).not.toBe(first!.path);
  });

  it('strips SSML before speaking, and shares one synthesis between concurrent requests', async () => {
    const tts = new Tts({ cacheDir: cacheDir() });
    const [a, b] = await Promise.all([tts.synthesize('<speak>Hello <break/> there</speak>'), tts.synthesize('<speak>Hello <break/> there</speak>')]);
    expect(a?.path).toBe(b?.path);
    expect(readdirSync(join(a!.path, '..'))).toHaveLength(1);
    await expect(tts.synthesize('<speak><break time="2s"/></speak>')).resolves.toBeUndefined();
  });

  it('keeps the cache under its size cap, least recently used first, across restarts', async () => {
    const texts = ['one two three', 'one two three four', 'one two three four five'];
    const probe = new Tts({ cacheDir: cacheDir() });
    const sizes = [];
    for (const t of texts) sizes.push(statSync((await probe.synthesize(t))!.path).size);
    // room for the first and the third prompt, not for all three
    const cap = (sizes[0] as number) + (sizes[2] as number) + 100;
    const dir = cacheDir();
    const tts = new Tts({ cacheDir: dir, maxCacheBytes: cap });
    const one = await tts.synthesize('one two three');
    const two = await tts.synthesize('one two three four');
    await tts.synthesize('one two three'); // used again: now the most recent
    const three = await tts.synthesize('one two three four five');
    expect(existsSync(one!.path)).toBe(true);
    expect(existsSync(two!.path)).toBe(false);
    expect(existsSync(three!.path)).toBe(true);
    expect(tts.cacheBytes).toBeLessThanOrEqual(cap);
    // a leftover of an interrupted write is removed, the rest is picked up
    writeFileSync(join(dir, 'x.wav.1.0.tmp'), 'partial');
    const later = new Tts({ cacheDir: dir });
    expect(readdirSync(dir).sort()).toEqual([one!.path, three!.path].map((p) => p.slice(dir.length + 1)).sort());
    expect((await later.synthesize('one two three'))?.cached).toBe(true);
  });

  it('fails with TtsError when espeak-ng fails or the text is over Twilio\'s limit', async () => {
    const broken = new Tts({ cacheDir: cacheDir(), binary: '/bin/false' });
    await expect(broken.synthesize('hello')).rejects.toThrow(TtsError);
    await expect(broken.synthesize('hello')).rejects.toThrow(/espeak-ng \(\/bin\/false\) failed for voice en-us\+m3: exited with 1/);
    const missing = new Tts({ cacheDir: cacheDir(), binary: '/nonexistent/espeak-ng' });
    await expect(missing.synthesize('hello')).rejects.toThrow(/ENOENT/);
    const tts = new Tts({ cacheDir: cacheDir() });
    await expect(tts.synthesize('a'.repeat(MAX_SAY_CHARS + 1))).rejects.toThrow(/over the 4096 limit/);
  });
});
