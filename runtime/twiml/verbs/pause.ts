/**
 * `<Pause length>` verb: wait `length` seconds (default 1).
 */
import { Attrs, SCHEMA_WARNING, type ParseContext, type TwimlElement } from '../element.js';
import type { PauseOpts, Result, TwimlError } from '../types.js';

/** Longest pause accepted, in seconds. */
export const MAX_PAUSE = 14400;

/** Parse a `<Pause>` element. */
export function parse(el: TwimlElement, ctx: ParseContext): Result<PauseOpts, TwimlError> {
  const a = new Attrs(el, ctx);
  const length = a.int('length', 1, 1, MAX_PAUSE, SCHEMA_WARNING);
  a.finish();
  return { ok: true, value: { length } };
}
