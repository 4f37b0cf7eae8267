/**
 * Adapter for the `sip` package (sip.js by kirm, "Simple SIP implementation"): its `parse()`.
 *
 * What it parses, eagerly, with regular expressions: the start line; Via (each value, with its
 * params), From, To, Contact, Refer-To (display name, URI kept as a string, params), Route,
 * Record-Route and Path (URI split into parts), CSeq, Content-Length and the auth headers. Every
 * other header stays a string; repeated generic headers are joined with ",". It does not validate:
 * a header whose parser throws is dropped silently, and it is lenient with malformed start lines.
 */
import { createRequire } from 'node:module';
import type { ProxyFields, SipPeer } from './types.js';

/** The parts of a `sip` message this adapter reads. */
interface SipMessage {
  headers: {
    via?: Array<{ params: Record<string, string | null> }>;
    'call-id'?: string;
    cseq?: { seq: number; method: string };
    from?: { params: Record<string, string | null> };
    to?: { params: Record<string, string | null> };
  };
}

/** The `sip` module, which ships no type declarations. */
interface SipModule {
  parse(data: Buffer | string): SipMessage | undefined;
}

const require = createRequire(import.meta.url);
const sip = require('sip') as SipModule;
const version = (require('sip/package.json') as { version: string }).version;

/** Views the bytes as a Buffer without copying: `sip`'s UDP and TCP transports hand `parse()` a Buffer. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function param(value: string | null | undefined): string | undefined {
  return value ?? undefined;
}

/** `sip` parses with `parse(buffer)`, which decodes as latin1 (`toString('binary')`). */
export const sipPeer: SipPeer = {
  name: `sip@${version}`,
  parse(bytes: Uint8Array): unknown {
    return sip.parse(toBuffer(bytes));
  },
  proxyFields(bytes: Uint8Array): ProxyFields {
    const headers = sip.parse(toBuffer(bytes))?.headers;
    return {
      branch: param(headers?.via?.[0]?.params.branch),
      callId: headers?.['call-id'],
      cseq: headers?.cseq?.seq,
      fromTag: param(headers?.from?.params.tag),
      toTag: param(headers?.to?.params.tag),
    };
  },
};
