/**
 * Self-contained embedding API of the Patchbay SIP parser (WebAssembly).
 *
 * Browser-safe and dependency-free: no imports, no Node built-ins, no Buffer.
 * Compiled to `dist/runtime/wasm/embed.js`, importable directly by a browser
 * (`import { instantiateParser } from './embed.js'`) or via `patchbay/embed`.
 *
 * @packageDocumentation
 */

// The numbers of assembly/abi.ts and assembly/errors.ts this file reads (test/unit/assembly/abi.test.ts checks them against abi.generated.ts).
const ABI_VERSION = 5;
const [M_ERROR_OFFSET, M_KIND, M_STATUS_CODE, M_BODY_LEN, M_HEADER_COUNT, M_FLAGS, M_ESCAPED_CTL_OFFSET] = [1, 2, 4, 12, 14, 17, 36];
const F_ESCAPED_CTL = 4096;
const [M_METHOD_START, M_METHOD_LEN, M_RURI_START, M_RURI_LEN, M_REASON_START, M_REASON_LEN] = [5, 6, 7, 8, 9, 10];
const [M_HEADERS, H_SIZE, H_NAME_START, H_NAME_LEN, H_VALUE_START, H_VALUE_LEN, H_FLAGS] = [50, 6, 1, 2, 3, 4, 5];
const HF_FOLDED = 1;
/** Status returned when the input does not even fit the IN region. */
const E_MESSAGE_TOO_LARGE = -10;
const KINDS = [undefined, 'request', 'response', 'keepalive'] as const;
const REQUIRED = ['abi_version', 'in_ptr', 'in_cap', 'out_ptr', 'out_cap', 'parse_message'] as const;

/** One header entry (one per value after comma splitting), in message order. */
export interface EmbeddedHeader {
  /** Header name as written in the message (compact forms are not expanded). */
  name: string;
  /** Header value; line folding is replaced by a single space. */
  value: string;
}

/** Result of {@link EmbeddedParser.parse}. */
export interface EmbeddedParseResult {
  /** True for a valid message or a keep-alive (status 0 or 1). */
  ok: boolean;
  /** 0 ok, 1 keep-alive, negative: error code from `assembly/errors.ts`. */
  status: number;
  /** Byte offset of the error in the input, -1 when none. */
  errorOffset: number;
  /** Message kind; undefined when parsing failed. */
  kind: 'request' | 'response' | 'keepalive' | undefined;
  /** Request method (requests only). */
  method?: string;
  /** Request-URI (requests only). */
  requestUri?: string;
  /** Status code (responses only). */
  statusCode?: number;
  /** Reason phrase, possibly empty (responses only). */
  reason?: string;
  /** Header entries; empty on error and for keep-alives. */
  headers: EmbeddedHeader[];
  /** Length of the body in bytes. */
  bodyLength: number;
  /**
   * Byte offset of the first control character (NUL, BEL, DEL...) that a
   * quoted-string holds as a quoted-pair, -1 when none. Valid SIP (RFC 3261
   * §25.1, RFC 4475 §3.1.1.2), so the message parses, but such a header
   * value must not be copied where control characters are forbidden.
   */
  escapedControlOffset: number;
}

/** Options of {@link EmbeddedParser.parse}. */
export interface EmbeddedParseOptions {
  /** Parse with stream (TCP/TLS/WS) framing rules instead of datagram rules. */
  stream?: boolean;
}

/** A parser bound to one WebAssembly instance. Not reentrant; one call at a time. */
export interface EmbeddedParser {
  /** ABI version reported by the module. */
  readonly abiVersion: number;
  /** Parses one SIP message (a datagram unless `options.stream`). Never throws on bad input. */
  parse(bytes: Uint8Array, options?: EmbeddedParseOptions): EmbeddedParseResult;
}

interface RawExports {
  memory: WebAssembly.Memory;
  abi_version(): number;
  in_ptr(): number;
  in_cap(): number;
  out_ptr(): number;
  out_cap(): number;
  parse_message(len: number, isStream: number): number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

async function instantiate(
  source: BufferSource | WebAssembly.Module | Response,
  imports: WebAssembly.Imports,
): Promise<WebAssembly.Instance> {
  if (source instanceof WebAssembly.Module) return WebAssembly.instantiate(source, imports);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new Error(`patchbay: fetching the wasm failed: HTTP ${source.status}`);
    if (typeof WebAssembly.instantiateStreaming === 'function') {
      try {
        return (await WebAssembly.instantiateStreaming(source.clone(), imports)).instance;
      } catch {
        // e.g. served without Content-Type application/wasm: fall back to buffering.
      }
    }
    return (await WebAssembly.instantiate(await source.arrayBuffer(), imports)).instance;
  }
  return (await WebAssembly.instantiate(source as BufferSource, imports)).instance;
}

/**
 * Instantiates the parser from the compiled module (`build/release.wasm`).
 *
 * @param source - the wasm bytes, a compiled `WebAssembly.Module`, a fetch `Response`, or the promise
 *   `fetch()` returns (as `WebAssembly.instantiateStreaming` takes it).
 * @returns a ready parser.
 * @throws Error if the module lacks a required export or reports another ABI version.
 */
export async function instantiateParser(
  source: BufferSource | WebAssembly.Module | Response | PromiseLike<Response>,
): Promise<EmbeddedParser> {
  const resolved = await source;
  const ref: { memory?: WebAssembly.Memory } = {};
  /** Reads an AssemblyScript string (UTF-16LE, byte length at ptr - 4). */
  const asString = (ptr: number): string => {
    const buf = ref.memory?.buffer;
    if (!buf || ptr < 4 || ptr > buf.byteLength) return '?';
    const len = Math.min(new DataView(buf).getUint32(ptr - 4, true), buf.byteLength - ptr) & ~1;
    return new TextDecoder('utf-16le').decode(new Uint8Array(buf, ptr, len));
  };
  const imports = {
    env: {
      abort(msg: number, file: number, line: number, col: number): never {
        throw new Error(`patchbay wasm abort: ${asString(msg)} at ${asString(file)}:${line}:${col}`);
      },
    },
  };
  const ex = (await instantiate(resolved, imports)).exports as unknown as RawExports;
  const missing: string[] = REQUIRED.filter((name) => typeof ex[name] !== 'function');
  if (!(ex.memory instanceof WebAssembly.Memory)) missing.push('memory');
  if (missing.length > 0) throw new Error(`patchbay: wasm lacks exports: ${missing.join(', ')}`);
  const mem = (ref.memory = ex.memory);
  const abiVersion = ex.abi_version();
  if (abiVersion !== ABI_VERSION) {
    throw new Error(`patchbay: wasm ABI version ${abiVersion}, this wrapper needs ${ABI_VERSION}`);
  }

  function parse(bytes: Uint8Array, options?: EmbeddedParseOptions): EmbeddedParseResult {
    const headers: EmbeddedHeader[] = [];
    const base = { headers, bodyLength: 0, kind: undefined, escapedControlOffset: -1 };
    const cap = ex.in_cap();
    if (bytes.length > cap) return { ...base, ok: false, status: E_MESSAGE_TOO_LARGE, errorOffset: cap };
    new Uint8Array(mem.buffer, ex.in_ptr(), bytes.length).set(bytes);
    const status = ex.parse_message(bytes.length, options?.stream ? 1 : 0);
    const view = new DataView(mem.buffer); // after the call: memory may have grown
    const out = ex.out_ptr();
    const slot = (i: number): number => view.getInt32(out + i * 4, true);
    // Record offsets are relative to the message start, i.e. index into `bytes`.
    const span = (start: number, len: number): string =>
      len > 0 ? utf8.decode(bytes.subarray(start, start + len)) : '';
    if (status < 0) return { ...base, ok: false, status, errorOffset: slot(M_ERROR_OFFSET) };
    if (status === 1) return { ...base, ok: true, status, errorOffset: -1, kind: 'keepalive' };
    const kind = KINDS[slot(M_KIND)];
    const bodyLength = Math.max(0, slot(M_BODY_LEN));
    const escapedControlOffset = slot(M_FLAGS) & F_ESCAPED_CTL ? slot(M_ESCAPED_CTL_OFFSET) : -1;
    const result: EmbeddedParseResult = { ok: true, status, errorOffset: -1, kind, headers, bodyLength, escapedControlOffset };
    if (kind === 'request') {
      result.method = span(slot(M_METHOD_START), slot(M_METHOD_LEN));
      result.requestUri = span(slot(M_RURI_START), slot(M_RURI_LEN));
    } else if (kind === 'response') {
      result.statusCode = slot(M_STATUS_CODE);
      result.reason = span(slot(M_REASON_START), slot(M_REASON_LEN));
    }
    const count = Math.min(slot(M_HEADER_COUNT), Math.floor((ex.out_cap() - M_HEADERS) / H_SIZE));
    for (let i = 0, h = M_HEADERS; i < count; i++, h += H_SIZE) {
      let value = span(slot(h + H_VALUE_START), slot(h + H_VALUE_LEN));
      if (slot(h + H_FLAGS) & HF_FOLDED) value = value.replace(/[ \t]*\r?\n[ \t]+/g, ' ');
      headers.push({ name: span(slot(h + H_NAME_START), slot(h + H_NAME_LEN)), value });
    }
    return result;
  }

  return { abiVersion, parse };
}
