/**
 * The XML element model the verb parsers read, the parse context that
 * collects warnings, and typed attribute readers that fall back to defaults
 * with the matching Twilio warning code.
 */
import type { HttpMethod, ParseTwimlOptions, TwimlIssue, TwimlWarning } from './types.js';

/** One XML element: name, attributes, element children and its own text. */
export interface TwimlElement {
  name: string;
  attrs: Record<string, string>;
  children: TwimlElement[];
  /** Concatenated direct text content (entities decoded, not trimmed). */
  text: string;
  /** Path such as `Response/Dial[0]`. */
  path: string;
}

/** Shared state of one parseTwiml call. */
export interface ParseContext {
  warnings: TwimlWarning[];
  options: ParseTwimlOptions;
}

/** Schema validation warning: unknown attribute or ignored content. */
export const SCHEMA_WARNING = 12200;
/** Document parse failure. */
export const PARSE_FAILURE = 12100;

/** @return an issue record for `el`. */
export function issue(el: TwimlElement, code: number, message: string): TwimlIssue {
  return { code, message, path: el.path };
}

/** @return the trimmed text of `el`. */
export function textOf(el: TwimlElement): string {
  return el.text.trim();
}

/**
 * Reads the attributes of one element. Each read marks the attribute as
 * known; finish() reports the rest with warning 12200.
 */
export class Attrs {
  private readonly used = new Set<string>();

  constructor(private readonly el: TwimlElement, private readonly ctx: ParseContext) {}

  /** Record a warning on this element. */
  warn(code: number, message: string): void {
    this.ctx.warnings.push(issue(this.el, code, message));
  }

  /** @return the raw value, or undefined when absent. */
  str(name: string): string | undefined {
    this.used.add(name);
    return this.el.attrs[name];
  }

  /** Mark attributes as known and intentionally ignored. */
  accept(...names: string[]): void {
    for (const n of names) this.used.add(n);
  }

  /** GET/POST (case-insensitive), default POST; anything else warns with `code`. */
  method(name: string, code: number): HttpMethod {
    const raw = this.str(name);
    if (raw === undefined) return 'POST';
    const up = raw.trim().toUpperCase();
    if (up === 'GET' || up === 'POST') return up;
    this.warn(code, `<${this.el.name}> ${name}="${raw}" is not GET or POST; using POST`);
    return 'POST';
  }

  /** Integer in [min, max]; otherwise `def` and warning `code`. */
  int(name: string, def: number, min: number, max: number, code: number): number {
    const raw = this.str(name);
    if (raw === undefined) return def;
    const t = raw.trim();
    const n = /^[+]?\d{1,9}$/.test(t) ? Number(t) : NaN;
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    this.warn(code, `<${this.el.name}> ${name}="${raw}" must be an integer from ${min} to ${max}; using ${def}`);
    return def;
  }

  /** `true`/`false` (case-insensitive); otherwise `def` and warning `code`. */
  bool(name: string, def: boolean, code: number): boolean {
    const raw = this.str(name);
    if (raw === undefined) return def;
    const t = raw.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
    this.warn(code, `<${this.el.name}> ${name}="${raw}" must be true or false; using ${def}`);
    return def;
  }

  /** One of `values`; otherwise `def` and warning `code`. */
  oneOf<T extends string>(name: string, values: readonly T[], def: T, code: number): T;
  oneOf<T extends string>(name: string, values: readonly T[], def: undefined, code: number): T | undefined;
  oneOf<T extends string>(name: string, values: readonly T[], def: T | undefined, code: number): T | undefined {
    const raw = this.str(name);
    if (raw === undefined) return def;
    const t = raw.trim();
    if ((values as readonly string[]).includes(t)) return t as T;
    this.warn(code, `<${this.el.name}> ${name}="${raw}" is not one of ${values.join(', ')}; using ${def ?? 'the default'}`);
    return def;
  }

  /** Space-separated subset of `values`; unknown tokens are dropped with warning `code`. */
  list<T extends string>(name: string, values: readonly T[], code: number): T[] | undefined {
    const raw = this.str(name);
    if (raw === undefined) return undefined;
    const out: T[] = [];
    for (const tok of raw.split(/[\s,]+/).filter((s) => s !== '')) {
      if (!(values as readonly string[]).includes(tok)) {
        this.warn(code, `<${this.el.name}> ${name} has unknown value "${tok}"; ignored`);
      } else if (!out.includes(tok as T)) out.push(tok as T);
    }
    return out;
  }

  /** Warn (12200) about every attribute that was never read. */
  finish(): void {
    for (const name of Object.keys(this.el.attrs)) {
      if (!this.used.has(name)) this.warn(SCHEMA_WARNING, `<${this.el.name}> has unknown attribute "${name}"; ignored`);
    }
  }
}
