/**
 * The shared grammar of WWW-Authenticate, Proxy-Authenticate, Authorization
 * and Proxy-Authorization values (RFC 3261 §25.1, RFC 7616 §3.3–§3.4):
 * `scheme 1*SP auth-param *("," auth-param)` where
 * `auth-param = token "=" (token / quoted-string)`.
 */
import { AuthMalformedError, err, ok, type Result } from './errors.js';

/** Longest header value we look at; longer ones are refused, not scanned. */
export const MAX_AUTH_HEADER_BYTES = 8192;
/** Most parameters one challenge or credentials value may carry. */
export const MAX_AUTH_PARAMS = 32;

/** One scheme with its parameters, names lower-cased, values unquoted. */
export interface AuthParams {
  /** The scheme as written (compare case-insensitively). */
  scheme: string;
  /** Parameter values by lower-case name, in the order received. */
  params: ReadonlyMap<string, string>;
}

/** RFC 7230 tchar (also RFC 3261 token minus nothing we care about). */
function isTokenChar(code: number): boolean {
  if (code >= 0x30 && code <= 0x39) return true;
  if ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a) return true;
  return "!#$%&'*+-.^_`|~".includes(String.fromCharCode(code));
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

/** A cursor over one header value. */
class Scanner {
  position = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.position >= this.text.length;
  }

  peek(): number {
    return this.text.charCodeAt(this.position);
  }

  skipWhitespace(): number {
    const start = this.position;
    while (!this.done && isWhitespace(this.peek())) this.position++;
    return this.position - start;
  }

  readToken(): string {
    const start = this.position;
    while (!this.done && isTokenChar(this.peek())) this.position++;
    return this.text.slice(start, this.position);
  }

  /** Nonces are often unquoted base64 (`/` and `=` included) in the wild. */
  readLooseValue(): string {
    const start = this.position;
    while (!this.done) {
      const code = this.peek();
      if (isWhitespace(code) || code === 0x2c || code === 0x22 || code < 0x20 || code === 0x7f) break;
      this.position++;
    }
    return this.text.slice(start, this.position);
  }

  /** A quoted-string with `\` escapes; undefined when unterminated or holding controls. */
  readQuoted(): string | undefined {
    this.position++;
    let value = '';
    while (!this.done) {
      const code = this.peek();
      this.position++;
      if (code === 0x22) return value;
      if (code === 0x5c) {
        if (this.done) return undefined;
        const escaped = this.peek();
        if (escaped === 0x0d || escaped === 0x0a) return undefined;
        value += this.text[this.position];
        this.position++;
      } else if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
        return undefined;
      } else {
        value += String.fromCharCode(code);
      }
    }
    return undefined;
  }
}

function malformed(message: string): { ok: false; error: AuthMalformedError } {
  return err(new AuthMalformedError(message));
}

/**
 * Parse the first `scheme params` of a header value. A second scheme in the
 * same value (`Digest …, Basic …`) ends the first one and is ignored.
 * @return the scheme and its parameters, or PB_ERR_AUTH_MALFORMED.
 */
export function parseAuthParams(headerValue: string): Result<AuthParams, AuthMalformedError> {
  if (typeof headerValue !== 'string') return malformed('header value is not a string');
  if (headerValue.length > MAX_AUTH_HEADER_BYTES) return malformed('header value is too long');
  const scanner = new Scanner(headerValue);
  scanner.skipWhitespace();
  const scheme = scanner.readToken();
  if (scheme === '') return malformed('missing authentication scheme');
  if (!scanner.done && scanner.skipWhitespace() === 0) return malformed(`bad character after scheme ${scheme}`);
  const params = new Map<string, string>();
  while (true) {
    while (!scanner.done && (isWhitespace(scanner.peek()) || scanner.peek() === 0x2c)) scanner.position++;
    if (scanner.done) break;
    const mark = scanner.position;
    const name = scanner.readToken().toLowerCase();
    if (name === '') return malformed(`unexpected character at offset ${scanner.position}`);
    scanner.skipWhitespace();
    if (scanner.done || scanner.peek() !== 0x3d) {
      if (params.size > 0 && scanner.position > mark + name.length) break;
      return malformed(`parameter ${name} has no value`);
    }
    scanner.position++;
    scanner.skipWhitespace();
    const value = scanner.done ? '' : scanner.peek() === 0x22 ? scanner.readQuoted() : scanner.readLooseValue();
    if (value === undefined) return malformed(`parameter ${name} has a bad quoted-string`);
    if (value === '' && headerValue.charCodeAt(scanner.position - 1) !== 0x22) {
      return malformed(`parameter ${name} has no value`);
    }
    if (params.has(name)) return malformed(`parameter ${name} appears twice`);
    if (params.size === MAX_AUTH_PARAMS) return malformed('too many parameters');
    params.set(name, value);
    scanner.skipWhitespace();
    if (!scanner.done && scanner.peek() !== 0x2c) return malformed(`expected "," after parameter ${name}`);
  }
  return ok({ scheme, params });
}

/** Quote a value as an RFC 3261 quoted-string, escaping `"` and `\`. */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** True when a value may go inside a quoted-string at all (no CR, LF or other controls). */
export function isQuotable(value: string): boolean {
  return !/[\x00-\x08\x0a-\x1f\x7f]/.test(value);
}
