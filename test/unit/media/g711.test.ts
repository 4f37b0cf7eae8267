/** The test endpoint's G.711 codec and correlation helper (ITU-T G.711 reference values). */
import { describe, expect, it } from 'vitest';
import { alawToLinear, linearToAlaw, linearToUlaw, maxNormalisedCorrelation, ulawToLinear } from '../../support/rtp/g711.js';

describe('G.711', () => {
  it('matches the reference codes for silence and full scale', () => {
    expect(linearToUlaw(0)).toBe(0xff);
    expect(ulawToLinear(0xff)).toBe(0);
    expect(ulawToLinear(0x80)).toBe(32124);
    expect(ulawToLinear(0x00)).toBe(-32124);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0xaa)).toBe(32256);
    expect(alawToLinear(0x2a)).toBe(-32256);
  });

  it('round-trips every code, and linear values within the segment step', () => {
    for (let c = 0; c < 256; c++) {
      expect(linearToUlaw(ulawToLinear(c)) === c || ulawToLinear(c) === 0).toBe(true);
      expect(linearToAlaw(alawToLinear(c))).toBe(c);
    }
    for (let x = -32000; x <= 32000; x += 997) {
      expect(Math.abs(ulawToLinear(linearToUlaw(x)) - x)).toBeLessThanOrEqual(Math.max(4, Math.abs(x) / 16));
      expect(Math.abs(alawToLinear(linearToAlaw(x)) - x)).toBeLessThanOrEqual(Math.max(16, Math.abs(x) / 16));
    }
  });
});

describe('maxNormalisedCorrelation', () => {
  const tone = Int16Array.from({ length: 800 }, (_, i) => Math.round(8000 * Math.sin(i / 7) + 3000 * Math.sin(i / 3.1)));

  it('finds a scaled, delayed copy with a peak near 1 at its lag', () => {
    const signal = new Int16Array(1200);
    for (let i = 0; i < tone.length; i++) signal[250 + i] = Math.round((tone[i] as number) / 2);
    const r = maxNormalisedCorrelation(tone, signal);
    expect(r.peak).toBeGreaterThan(0.999);
    expect(r.lag).toBe(250);
  });

  it('gives a low peak for silence-free noise and 0 for a signal shorter than the reference', () => {
    let seed = 1;
    const noise = Int16Array.from({ length: 2000 }, () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 20000) - 10000);
    expect(maxNormalisedCorrelation(tone, noise).peak).toBeLessThan(0.3);
    expect(maxNormalisedCorrelation(tone, tone.subarray(0, 10)).peak).toBe(0);
  });
});
