/** WAV files for the media tests: 16-bit PCM reading (any chunk order) and sox conversion to 8 kHz mono. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A decoded WAV: 16-bit samples of the first channel. */
export interface Wav {
  sampleRate: number;
  channels: number;
  samples: Int16Array;
  durationMs: number;
}

/** Reads a RIFF/WAVE file of 16-bit PCM; throws on anything else. */
export function readWav(path: string): Wav {
  const b = readFileSync(path);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error(`${path}: not a RIFF/WAVE file`);
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  for (let off = 12; off + 8 <= b.length;) {
    const id = b.toString('latin1', off, off + 4);
    // espeak-ng streams its WAV and leaves the data size at 0x7fffffff: clamp to the file
    const size = Math.min(b.readUInt32LE(off + 4), b.length - off - 8);
    if (id === 'fmt ') fmt = { format: b.readUInt16LE(off + 8), channels: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    if (id === 'data') {
      if (fmt === undefined || fmt.format !== 1 || fmt.bits !== 16) throw new Error(`${path}: not 16-bit PCM`);
      const frames = Math.floor(size / (2 * fmt.channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = b.readInt16LE(off + 8 + i * 2 * fmt.channels);
      return { sampleRate: fmt.rate, channels: fmt.channels, samples, durationMs: (frames * 1000) / fmt.rate };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error(`${path}: no data chunk`);
}

/** Converts any audio file sox reads to 8 kHz mono 16-bit WAV at `out`. */
export function toNarrowbandWav(input: string, out: string): Wav {
  execFileSync('sox', [input, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', out]);
  return readWav(out);
}

/** Synthesises `text` with espeak-ng into `out` (its native 22.05 kHz WAV). */
export function espeak(text: string, out: string): Wav {
  execFileSync('espeak-ng', ['-w', out, text]);
  return readWav(out);
}
