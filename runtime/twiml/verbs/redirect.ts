/**
 * `<Redirect method>URL</Redirect>` verb: fetch new TwiML from URL.
 */
import { Attrs, PARSE_FAILURE, SCHEMA_WARNING, issue, textOf, type ParseContext, type TwimlElement } from '../element.js';
import type { RedirectOpts, Result, TwimlError } from '../types.js';

/** Parse a `<Redirect>` element; method defaults to POST, the URL is required. */
export function parse(el: TwimlElement, ctx: ParseContext): Result<RedirectOpts, TwimlError> {
  const url = textOf(el);
  if (url === '') return { ok: false, error: issue(el, PARSE_FAILURE, '<Redirect> has no URL') };
  const a = new Attrs(el, ctx);
  const method = a.method('method', SCHEMA_WARNING);
  a.finish();
  return { ok: true, value: { method, url } };
}
