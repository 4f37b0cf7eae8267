/**
 * Self-signed certificate and key for TLS tests (localhost, 127.0.0.1, ::1).
 * `openssl` is used when it runs; otherwise the certificate is assembled in
 * DER by hand and signed with node:crypto (Node has no API that issues
 * certificates), so the suite needs no system tool.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PEM certificate and its PEM private key. */
export interface CertPair {
  cert: string;
  key: string;
  /** Which path produced it. */
  madeBy: 'openssl' | 'node';
}

/** @return true when an `openssl` binary runs here. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Make the pair with openssl (EC P-256, one day). */
export function selfSignedWithOpenssl(): CertPair {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    ], { stdio: 'pipe' });
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8'), madeBy: 'openssl' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function der(tag: number, ...parts: Uint8Array[]): Buffer {
  const content = Buffer.concat(parts);
  const n = content.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), content]);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const v of rest) {
    const groups = [v & 0x7f];
    for (let x = v >> 7; x > 0; x >>= 7) groups.unshift((x & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return der(0x06, Buffer.from(bytes));
}

function utcTime(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return der(0x17, Buffer.from(`${s}Z`, 'ascii'));
}

const SEQ = 0x30;
const ECDSA_SHA256 = der(SEQ, oid('1.2.840.10045.4.3.2'));

/** Make the pair with node:crypto only (EC P-256, one day). */
export function selfSignedWithNode(): CertPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const name = der(SEQ, der(0x31, der(SEQ, oid('2.5.4.3'), der(0x0c, Buffer.from('localhost')))));
  const now = Date.now();
  const san = der(SEQ,
    der(0x82, Buffer.from('localhost')),
    der(0x87, Buffer.from([127, 0, 0, 1])),
    der(0x87, Buffer.from([...new Array<number>(15).fill(0), 1])));
  const extensions = der(0xa3, der(SEQ,
    der(SEQ, oid('2.5.29.19'), der(0x04, der(SEQ, der(0x01, Buffer.from([0xff]))))),
    der(SEQ, oid('2.5.29.17'), der(0x04, san))));
  const serial = randomBytes(8);
  // positive and minimally encoded (DER): high bit clear, first byte never 0, which a strict parser refuses
  // when the next byte does not need it (1 certificate in 256 failed to load)
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const tbs = der(SEQ,
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    ECDSA_SHA256,
    name,
    der(SEQ, utcTime(new Date(now - 60_000)), utcTime(new Date(now + 86_400_000))),
    name,
    (publicKey as KeyObject).export({ type: 'spki', format: 'der' }),
    extensions);
  const signature = sign('sha256', tbs, privateKey);
  const certDer = der(SEQ, tbs, ECDSA_SHA256, der(0x03, Buffer.from([0]), signature));
  const cert = new X509Certificate(certDer).toString();
  const key = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { cert, key, madeBy: 'node' };
}

/** A self-signed pair: openssl when available, else node:crypto. */
export function selfSignedPair(): CertPair {
  return hasOpenssl() ? selfSignedWithOpenssl() : selfSignedWithNode();
}
