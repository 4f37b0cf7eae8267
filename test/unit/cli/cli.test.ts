/**
 * The `patchbay` binary as users run it (dist/runtime/cli.js, built by
 * `npm run build`): exit codes, JSON on stdout, the error line with its
 * byte offset on stderr, for every RFC 4475 message.
 */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, CORPUS, readTsv } from '../../support/wasm.js';

const BIN = join(ROOT, 'dist', 'runtime', 'cli.js');

interface Run { code: number; stdout: string; stderr: string }

function run(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Run many at a time, at most `n` in flight. */
async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

describe('patchbay CLI', () => {
  it('is built', () => expect(existsSync(BIN), 'run npm run build first').toBe(true));

  it('exits as EXPECTED.tsv says for every RFC 4475 message', async () => {
    const rows = readTsv('rfc4475/EXPECTED.tsv');
    const runs = await pool(rows, 4, (r) => run(['parse', join(CORPUS, 'rfc4475', `${r.name}.dat`)]));
    rows.forEach((row, i) => {
      const { code, stdout, stderr } = runs[i]!;
      const allowed = row.parse_exit === '0|1' ? [0, 1] : [Number(row.parse_exit)];
      expect(allowed, `${row.name}: exit ${code} ${stderr}`).toContain(code);
      const json = JSON.parse(stdout) as { valid: boolean; error?: { offset: number; name: string } };
      expect(json.valid).toBe(code === 0);
      if (code === 1) expect(stderr).toMatch(new RegExp(`^patchbay parse: ${json.error!.name} at byte ${json.error!.offset}: `));
    });
  }, 120_000);

  it('reads stdin with "-" and prints the documented fields', async () => {
    const msg = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n';
    const r = await run(['parse', '-'], msg);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({
      valid: true, kind: 'request', method: 'OPTIONS', requestUri: 'sip:a@b', callId: 'c1',
      cseq: { number: 1, method: 'OPTIONS' }, branch: 'z9hG4bK1', fromTag: '1', toTag: null, bodyLength: 0, warnings: [],
    });
    expect(json.headers.at(-1)).toEqual({ name: 'Content-Length', raw: 'l', value: '0' });
  });

  it('names a raw control character and its byte offset', async () => {
    const msg = 'OPTIONS sip:x@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: "a\x07" <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
    const r = await run(['parse', '-'], msg);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({ name: 'E_RAW_CTL', offset: msg.indexOf('\x07'), sipStatus: 400 });
    expect(r.stderr).toMatch(new RegExp(`^patchbay parse: E_RAW_CTL at byte ${msg.indexOf('\x07')}: control character \\(NUL, BEL, ESC, DEL, bare CR\\.\\.\\.\\)`));
  });

  it('prints valid for RFC 4475 intmeth (BEL, NUL and DEL as quoted-pairs), with a warning and no error line', async () => {
    const r = await run(['parse', join(CORPUS, 'rfc4475', 'intmeth.dat')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const json = JSON.parse(r.stdout);
    expect(json.valid).toBe(true);
    expect(json.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(json.warnings).toContain('a quoted-string holds a control character as a quoted-pair (valid per RFC 3261, but never copied: the daemon answers 400 or drops the message)');
    expect(json.headers.find((h: { name: string }) => h.name === 'To').value).toMatch(/^"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f"/);
  });

  it('applies the Refer-To rules to a REFER', async () => {
    const head = 'REFER sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c1\r\nCSeq: 2 REFER\r\n';
    const ok = await run(['parse', '-'], `${head}Refer-To: <sip:agentb@example.com?User-to-User=12%3Bencoding%3Dhex>\r\nContent-Length: 0\r\n\r\n`);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).referTo).toMatchObject({ ok: true, raw: '<sip:agentb@example.com?User-to-User=12%3Bencoding%3Dhex>', headers: [{ name: 'User-to-User', value: '12;encoding=hex' }] });
    const two = await run(['parse', '-'], `${head}Refer-To: <sip:b@example.com>\r\nr: <sip:c@example.com>\r\nContent-Length: 0\r\n\r\n`);
    expect(two.code).toBe(1);
    expect(JSON.parse(two.stdout).error.name).toBe('E_REFER_TO_MULTIPLE');
    const long = await run(['parse', '-'], `${head}Refer-To: <sip:${'a'.repeat(260)}@example.com>\r\nContent-Length: 0\r\n\r\n`);
    expect(long.code).toBe(1);
    expect(JSON.parse(long.stdout).error.name).toBe('E_REFER_TO_TOO_LONG');
    const none = await run(['parse', '-'], `${head}Content-Length: 0\r\n\r\n`);
    expect(JSON.parse(none.stdout).error.name).toBe('E_REFER_TO_MISSING');
  });

  it('check-uri prints the parts of a <Sip> target and refuses bad ones with exit 1', async () => {
    const good = await run(['check-uri', 'sip:kate@example.com;transport=tls;region=ie1?x-customname=Madhu%2CM%3BTitle%3DManager&User-to-User=123456789%3Bencoding%3Dhex']);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({
      ok: true, user: 'kate', host: 'example.com', port: null, transport: 'tls', effectivePort: 5061, region: 'ie1',
      headers: [{ name: 'x-customname', value: 'Madhu,M;Title=Manager' }, { name: 'User-to-User', value: '123456789;encoding=hex' }],
    });
    const plain = await run(['check-uri', 'sip:bob@10.0.0.1']);
    expect(JSON.parse(plain.stdout)).toMatchObject({ transport: 'udp', effectivePort: 5060, region: 'us1' });
    const bad = await run(['check-uri', 'sip:bob@example.com?x-a=1%0D%0AVia:%20evil']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).error.name).toBe('E_CTL_CHAR');
    expect(bad.stderr).toMatch(/^patchbay check-uri: E_CTL_CHAR at byte \d+: /);
  });

  it('exits 2 on usage errors', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['check-uri'])).code).toBe(2);
    expect((await run(['parse', '/nonexistent/file'])).code).toBe(2);
    expect((await run(['--help'])).code).toBe(0);
  });
});
