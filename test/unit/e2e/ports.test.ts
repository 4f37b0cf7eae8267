import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { E2E_PORT_TABLE, EPHEMERAL_START, OWN_NAMESPACE, e2ePorts, portRanges, portShift } from '../../e2e/ports.js';

const E2E_DIR = join(import.meta.dirname, '..', '..', 'e2e');
const e2eFiles = readdirSync(E2E_DIR).filter((f) => f.endsWith('.e2e.test.ts')).sort();

/** The highest `<port variable> + N` a file writes, its port variables being its range's base and constants derived from it. */
function highestOffset(text: string): number {
  const offsets = new Map<string, number>();
  const base = /const (\w+) = e2ePorts\(import\.meta\.url\)\.base;/.exec(text);
  if (!base) return -1;
  offsets.set(base[1]!, 0);
  // constants derived from a port variable, in order (`const SIP2 = SIP + 10`), one level after another
  for (const m of text.matchAll(/const (\w+) = (\w+) \+ (\d+);/g)) {
    const from = offsets.get(m[2]!);
    if (from !== undefined) offsets.set(m[1]!, from + Number(m[3]));
  }
  let highest = 0;
  for (const [name, offset] of offsets) {
    highest = Math.max(highest, offset);
    for (const m of text.matchAll(new RegExp(`\\b${name} \\+ (\\d+)\\b`, 'g'))) highest = Math.max(highest, offset + Number(m[1]));
  }
  return highest;
}

describe('e2e port ranges (test/e2e/ports.ts)', () => {
  it('no two ranges overlap, and all lie in 1024-32767 (below the ephemeral range), with and without a shift', () => {
    for (const shift of [0, 1000, 20_000]) {
      const ranges = portRanges(shift).sort((a, b) => a.base - b.base);
      for (let i = 1; i < ranges.length; i++) {
        const [prev, next] = [ranges[i - 1]!, ranges[i]!];
        expect(prev.base + prev.size, `${prev.file} ends before ${next.file} starts`).toBeLessThanOrEqual(next.base);
      }
      expect(ranges[0]!.base).toBeGreaterThanOrEqual(1024);
      expect(ranges.at(-1)!.base + ranges.at(-1)!.size).toBeLessThanOrEqual(EPHEMERAL_START);
    }
  });

  it('every e2e file has a range (or runs in a network namespace of its own), and every row names a file that exists, once', () => {
    const rows = E2E_PORT_TABLE.map(([file]) => file);
    expect(new Set(rows).size).toBe(rows.length);
    expect([...rows, ...OWN_NAMESPACE].sort()).toEqual(e2eFiles);
  });

  it('each file takes its base from its range, picks none by hand, and stays inside its range', () => {
    for (const [file, size] of E2E_PORT_TABLE) {
      const text = readFileSync(join(E2E_DIR, file), 'utf8');
      expect(text, file).toContain('e2ePorts(import.meta.url)');
      expect(text, file).not.toMatch(/fixedPortBase|portBase\(/);
      expect(highestOffset(text), `${file}: its highest port offset is inside its ${size} ports`).toBeLessThan(size);
    }
  });

  it('a file gets its own range by its URL; an unknown file and an offset outside the range are clear errors', () => {
    const tls = e2ePorts(`file://${join(E2E_DIR, 'tls.e2e.test.ts')}`);
    expect(tls).toMatchObject({ file: 'tls.e2e.test.ts', size: 20 });
    expect(tls.port(0)).toBe(tls.base);
    expect(tls.port(19)).toBe(tls.base + 19);
    expect(() => tls.port(20)).toThrow(/tls\.e2e\.test\.ts: port offset 20 is outside its 20 ports/);
    expect(() => tls.port(-1)).toThrow(RangeError);
    expect(() => e2ePorts('file:///x/new.e2e.test.ts')).toThrow(/new\.e2e\.test\.ts has no port range: add a row for it to E2E_PORT_TABLE in test\/e2e\/ports\.ts/);
  });

  it('PATCHBAY_TEST_PORT_SHIFT moves every range; one that is not a whole number or leaves 1024-32767 is refused', () => {
    expect(portShift({})).toBe(0);
    expect(portShift({ PATCHBAY_TEST_PORT_SHIFT: '500' })).toBe(500);
    expect(portRanges(500)[0]!.base).toBe(portRanges(0)[0]!.base + 500);
    for (const bad of ['x', '1.5', '-10000', '30000']) expect(() => portShift({ PATCHBAY_TEST_PORT_SHIFT: bad }), bad).toThrow(/PATCHBAY_TEST_PORT_SHIFT/);
  });
});
