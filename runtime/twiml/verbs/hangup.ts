/**
 * `<Hangup>` verb: ends the call; takes no attributes.
 */
import { Attrs, SCHEMA_WARNING, issue, textOf, type ParseContext, type TwimlElement } from '../element.js';
import type { Result, TwimlError } from '../types.js';

/** Parse a `<Hangup>` element. */
export function parse(el: TwimlElement, ctx: ParseContext): Result<Record<string, never>, TwimlError> {
  if (textOf(el) !== '' || el.children.length > 0) {
    ctx.warnings.push(issue(el, SCHEMA_WARNING, '<Hangup> content is ignored'));
  }
  new Attrs(el, ctx).finish();
  return { ok: true, value: {} };
}
