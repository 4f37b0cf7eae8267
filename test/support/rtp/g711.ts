/**
 * G.711 (ITU-T Recommendation G.711) mu-law and A-law for the test RTP
 * endpoint: 16-bit linear PCM to and from 8-bit codes, plus the normalised
 * cross-correlation used to compare what was heard with what was sent.
 */

const BIAS = 0x84;
const CLIP = 32635;

/** Linear 16-bit sample to a mu-law byte (G.711 section 3, the usual segment search). */
export function linearToUlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** A mu-law byte to a linear 16-bit sample. */
export function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? BIAS - t : t - BIAS;
}

/** Linear 16-bit sample to an A-law byte (even bits inverted, 0x55). */
export function linearToAlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample))) >> 3;
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s - 1;
  let code: number;
  if (s < 32) {
    code = s >> 1;
  } else {
    let seg = 1;
    while (seg < 7 && s >= 64 << (seg - 1)) seg++;
    code = (seg << 4) | ((s >> seg) & 0x0f);
  }
  return (sign | (code & 0x7f)) ^ 0x55;
}

/** An A-law byte to a linear 16-bit sample. */
export function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t = seg === 0 ? t + 8 : seg === 1 ? t + 0x108 : (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

/** Decodes a G.711 payload (PT 0 = PCMU, 8 = PCMA) into `out` at `offset`. */
export function decodeG711(payloadType: 0 | 8, payload: Uint8Array, out: Int16Array, offset: number): void {
  const f = payloadType === 0 ? ulawToLinear : alawToLinear;
  for (let i = 0; i < payload.length && offset + i < out.length; i++) out[offset + i] = f(payload[i] as number);
}

/** Encodes linear samples to a G.711 payload. */
export function encodeG711(payloadType: 0 | 8, samples: Int16Array): Uint8Array {
  const f = payloadType === 0 ? linearToUlaw : linearToAlaw;
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = f(samples[i] as number);
  return out;
}

/**
 * The highest normalised cross-correlation of `reference` against `signal` over every lag
 * in `0..signal.length - reference.length` (1.0: the reference is in the signal, up to gain).
 * @return the peak and the lag (in samples) where it is
 */
export function maxNormalisedCorrelation(reference: Int16Array, signal: Int16Array): { peak: number; lag: number } {
  const n = reference.length;
  if (n === 0 || signal.length < n) return { peak: 0, lag: 0 };
  let refEnergy = 0;
  for (let i = 0; i < n; i++) refEnergy += (reference[i] as number) ** 2;
  // running energy of the signal window
  let winEnergy = 0;
  for (let i = 0; i < n; i++) winEnergy += (signal[i] as number) ** 2;
  let best = { peak: 0, lag: 0 };
  for (let lag = 0; lag + n <= signal.length; lag++) {
    if (lag > 0) winEnergy += (signal[lag + n - 1] as number) ** 2 - (signal[lag - 1] as number) ** 2;
    if (winEnergy <= 0 || refEnergy <= 0) continue;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += (reference[i] as number) * (signal[lag + i] as number);
    const c = dot / Math.sqrt(refEnergy * winEnergy);
    if (c > best.peak) best = { peak: c, lag };
  }
  return best;
}
