/**
 * Text to speech for `<Say>`, offline with espeak-ng: the text (SSML reduced
 * to its text) is synthesised to a 16-bit mono WAV that rtpengine's player
 * reads, and cached on disk by (text, voice, language) so a prompt is
 * synthesised once. The cache keeps at most `maxCacheBytes`; the least
 * recently used files go first. A file is written under a temporary name
 * and renamed, so a crash never leaves a half-written WAV in the cache, and
 * concurrent requests for the same prompt share one synthesis.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { TtsError } from './errors.js';
import { resolveVoice } from './voices.js';

/** Twilio's limit on the text of one `<Say>`. */
export const MAX_SAY_CHARS = 4096;

/** Options of {@link Tts}. */
export interface TtsOptions {
  /** Directory of the cached WAVs (created if missing). */
  cacheDir: string;
  /** Cap on the cache's total size (default 100 MiB). */
  maxCacheBytes?: number;
  /** The espeak-ng binary (default `espeak-ng` on PATH). */
  binary?: string;
  /** Kill a synthesis that takes longer (default 30 s). */
  timeoutMs?: number;
  logger?: Logger;
}

/** A synthesised prompt. */
export interface SpeechFile {
  /** Absolute path of the WAV, in the cache. */
  path: string;
  /** Its duration from the WAV header. */
  durationMs: number;
  /** True when it came from the cache. */
  cached: boolean;
  /** Set when the voice or language fell back to another (see voices.ts). */
  fallback?: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * The text SSML would speak: `<sub alias>` becomes its alias, `<break>` a pause (a comma),
 * every other tag is dropped and its content kept; XML entities are decoded; whitespace collapsed.
 * (https://www.twilio.com/docs/voice/twiml/say/text-speech#ssml-tags)
 */
export function ssmlToText(input: string): string {
  return input
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_m, t: string) => t.replace(/</g, '&lt;'))
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<sub\b[^>]*?\balias\s*=\s*("([^"]*)"|'([^']*)')[^>]*>[\s\S]*?<\/sub\s*>/gi, (_m, _q, a?: string, b?: string) => ` ${a ?? b ?? ''} `)
    .replace(/<break\b[^>]*\/?>/gi, ', ')
    .replace(/<\/?(p|s)\b[^>]*>/gi, '. ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/\s+/g, ' ')
    .replace(/^[\s.,]+/, '')
    .replace(/(\s*[.,])+\s*$/, (m) => m.trim().slice(0, 1))
    .trim();
}

/** Duration of a 16-bit PCM WAV from its header and the file size (espeak-ng may leave sizes unset). */
export function wavDurationMs(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const h = Buffer.alloc(4096);
    const n = readSync(fd, h, 0, h.length, 0);
    if (n < 44 || h.toString('latin1', 0, 4) !== 'RIFF' || h.toString('latin1', 8, 12) !== 'WAVE') throw new TtsError(`${path} is not a WAV file`);
    let rate = 0;
    let blockAlign = 0;
    for (let off = 12; off + 8 <= n;) {
      const id = h.toString('latin1', off, off + 4);
      const size = h.readUInt32LE(off + 4);
      if (id === 'fmt ') {
        rate = h.readUInt32LE(off + 12);
        blockAlign = h.readUInt16LE(off + 20);
      } else if (id === 'data') {
        if (rate === 0 || blockAlign === 0) break;
        const bytes = Math.min(size, statSync(path).size - off - 8);
        return Math.round((bytes / blockAlign / rate) * 1000);
      }
      off += 8 + size + (size % 2);
    }
    throw new TtsError(`${path}: no PCM data in the WAV`);
  } finally {
    closeSync(fd);
  }
}

/** espeak-ng synthesis with an on-disk cache. */
export class Tts {
  private readonly maxBytes: number;
  /** Cached files, least recently used first (Map keeps insertion order). */
  private readonly files = new Map<string, number>();
  private total = 0;
  private readonly inFlight = new Map<string, Promise<SpeechFile>>();
  private tmpSeq = 0;

  /** @param options - cache directory and cap, binary, timeout. */
  constructor(private readonly options: TtsOptions) {
    this.maxBytes = options.maxCacheBytes ?? 100 * 1024 * 1024;
    mkdirSync(options.cacheDir, { recursive: true });
    // pick up what an earlier run left, oldest first; drop leftovers of interrupted writes
    const found = readdirSync(options.cacheDir)
      .map((name) => ({ name, path: join(options.cacheDir, name) }))
      .filter((f) => {
        if (f.name.endsWith('.wav')) return true;
        if (f.name.includes('.tmp')) unlinkSync(f.path);
        return false;
      })
      .map((f) => ({ ...f, stat: statSync(f.path) }))
      .sort((a, b) => a.stat.mtimeMs - b.stat.mtimeMs);
    for (const f of found) {
      this.files.set(f.path, f.stat.size);
      this.total += f.stat.size;
    }
    this.evict();
  }

  /** Bytes the cache holds. */
  get cacheBytes(): number {
    return this.total;
  }

  /**
   * The WAV for `text` spoken with `voice` in `language` (Twilio's names, see voices.ts);
   * undefined when the text is empty once SSML is stripped (nothing to say).
   * Rejects with TtsError when the text is too long or espeak-ng fails.
   */
  async synthesize(text: string, voice?: string, language?: string): Promise<SpeechFile | undefined> {
    const plain = ssmlToText(text);
    if (plain === '') return undefined;
    if (plain.length > MAX_SAY_CHARS) throw new TtsError(`<Say> text is ${plain.length} characters, over the ${MAX_SAY_CHARS} limit`);
    const resolved = resolveVoice(voice, language);
    const key = createHash('sha256').update(JSON.stringify([plain, voice ?? 'man', language ?? 'en-US'])).digest('hex').slice(0, 40);
    const path = join(this.options.cacheDir, `${key}.wav`);
    const size = this.files.get(path);
    if (size !== undefined) {
      // touch: most recently used last
      this.files.delete(path);
      let durationMs: number | undefined;
      try {
        durationMs = wavDurationMs(path);
      } catch {
        // removed or damaged behind our back: synthesise it again
        this.total -= size;
      }
      if (durationMs !== undefined) {
        this.files.set(path, size);
        return { path, durationMs, cached: true, ...(resolved.fallback ? { fallback: resolved.fallback } : {}) };
      }
    }
    const running = this.inFlight.get(path);
    if (running !== undefined) return running;
    const job = this.run(plain, resolved.espeak, path)
      .then((): SpeechFile => ({ path, durationMs: wavDurationMs(path), cached: false, ...(resolved.fallback ? { fallback: resolved.fallback } : {}) }))
      .finally(() => this.inFlight.delete(path));
    this.inFlight.set(path, job);
    return job;
  }

  private run(text: string, espeakVoice: string, path: string): Promise<void> {
    const tmp = `${path}.${process.pid}.${this.tmpSeq++}.tmp`;
    const binary = this.options.binary ?? 'espeak-ng';
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    return new Promise<void>((resolve, reject) => {
      const child = spawn(binary, ['-v', espeakVoice, '-b', '1', '-w', tmp], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      let failed: string | undefined;
      const timer = setTimeout(() => { failed = `took over ${timeoutMs} ms`; child.kill('SIGKILL'); }, timeoutMs);
      child.stderr?.on('data', (c: Buffer) => { stderr = (stderr + c.toString('utf8')).slice(-1000); });
      child.once('error', (e) => { failed = e.message; });
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(`${text}\n`, 'utf8');
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        const why = failed ?? (code !== 0 ? `exited with ${code ?? signal}${stderr ? `: ${stderr.trim()}` : ''}` : undefined);
        let bytes = 0;
        try {
          bytes = statSync(tmp).size;
        } catch {
          // no output file: reported below
        }
        if (why !== undefined || bytes <= 44) {
          try { unlinkSync(tmp); } catch { /* not written */ }
          reject(new TtsError(`espeak-ng (${binary}) failed for voice ${espeakVoice}: ${why ?? 'no audio written'}`));
          return;
        }
        renameSync(tmp, path);
        this.files.set(path, bytes);
        this.total += bytes;
        this.evict(path);
        resolve();
      });
    });
  }

  /** Removes least recently used files until the cache fits its cap (never `keep`, the file just made). */
  private evict(keep?: string): void {
    for (const [path, size] of this.files) {
      if (this.total <= this.maxBytes) return;
      if (path === keep) continue;
      try {
        unlinkSync(path);
      } catch (error) {
        this.options.logger?.warn('TTS cache: cannot remove a file', { path, error: (error as Error).message });
      }
      this.files.delete(path);
      this.total -= size;
    }
  }
}
