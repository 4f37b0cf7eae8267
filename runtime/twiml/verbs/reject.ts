/**
 * `<Reject reason="busy|rejected">` verb: declines the call without answering.
 */
import { Attrs, SCHEMA_WARNING, type ParseContext, type TwimlElement } from '../element.js';
import type { RejectOpts, Result, TwimlError } from '../types.js';

/** Parse a `<Reject>` element; reason defaults to rejected. */
export function parse(el: TwimlElement, ctx: ParseContext): Result<RejectOpts, TwimlError> {
  const a = new Attrs(el, ctx);
  const reason = a.oneOf('reason', ['busy', 'rejected'] as const, 'rejected', SCHEMA_WARNING);
  a.finish();
  return { ok: true, value: { reason } };
}
