import { describe, expect, it } from 'vitest';
import { loadMessageFixtures } from '../../../bench/lib/fixtures.js';

const CRLF_CRLF = Buffer.from('\r\n\r\n');

describe.each(loadMessageFixtures().map((fixture) => [fixture.name, fixture] as const))(
  'message fixture %s',
  (_name, fixture) => {
    const bytes = Buffer.from(fixture.bytes);
    const headEnd = bytes.indexOf(CRLF_CRLF);
    const head = bytes.subarray(0, headEnd).toString('latin1');
    const body = bytes.subarray(headEnd + CRLF_CRLF.length);

    it('has a header block ended by an empty line', () => {
      expect(headEnd).toBeGreaterThan(0);
    });

    it('uses CRLF line endings only', () => {
      const text = bytes.toString('latin1');
      expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    });

    it('declares a Content-Length equal to its body size', () => {
      const match = /^Content-Length:\s*(\d+)$/im.exec(head);
      expect(match).not.toBeNull();
      expect(Number(match?.[1])).toBe(body.length);
    });
  },
);
