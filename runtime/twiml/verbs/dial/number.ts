/**
 * `<Number>` noun, also used for plain text inside `<Dial>`
 * (https://www.twilio.com/docs/voice/twiml/number).
 */
import { Attrs, issue, textOf, type ParseContext, type TwimlElement } from '../../element.js';
import type { NumberNoun, Result, TwimlError } from '../../types.js';
import { readAmd, readCommon } from './common.js';

/** Invalid phone number format. */
export const INVALID_NUMBER = 13223;

const NUMBER = /^\+?[0-9()\-. ]*[0-9][0-9()\-. ]*$/;
const DIGITS = /^[0-9A-D#*wW]+$/;

/** @return a NumberNoun for `text` with default attributes, or error 13223. */
export function fromText(el: TwimlElement, text: string): Result<NumberNoun, TwimlError> {
  const number = text.trim();
  if (!NUMBER.test(number)) {
    return { ok: false, error: issue(el, INVALID_NUMBER, `invalid phone number "${number}" in <${el.name}>`) };
  }
  return {
    ok: true,
    value: { kind: 'number', number, method: 'POST', statusCallbackEvent: [], statusCallbackMethod: 'POST' },
  };
}

/** Parse a `<Number>` element. */
export function parse(el: TwimlElement, ctx: ParseContext): Result<NumberNoun, TwimlError> {
  const base = fromText(el, textOf(el));
  if (!base.ok) return base;
  const a = new Attrs(el, ctx);
  const value: NumberNoun = { ...base.value, ...readCommon(a, 13221) };
  const sendDigits = a.str('sendDigits');
  if (sendDigits !== undefined) {
    if (DIGITS.test(sendDigits.trim())) value.sendDigits = sendDigits.trim();
    else a.warn(13222, `<Number> sendDigits="${sendDigits}" may only hold 0-9 A-D # * w W; ignored`);
  }
  const byoc = a.str('byoc');
  if (byoc !== undefined) value.byoc = byoc.trim();
  readAmd(a);
  a.finish();
  return { ok: true, value };
}
