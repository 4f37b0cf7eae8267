/**
 * `<Sip>` noun (https://www.twilio.com/docs/voice/twiml/sip). URI syntax is checked by the injected
 * validator (ParseTwimlOptions.validateSipUri), not here.
 */
import { Attrs, issue, textOf, type ParseContext, type TwimlElement } from '../../element.js';
import type { Result, SipNoun, TwimlError } from '../../types.js';
import { readAmd, readCommon } from './common.js';

/** Invalid SIP URI when the validator gives no code of its own. */
export const INVALID_SIP_URI = 13243;

/** Parse a `<Sip>` element. */
export function parse(el: TwimlElement, ctx: ParseContext): Result<SipNoun, TwimlError> {
  const uri = textOf(el);
  if (uri === '') return { ok: false, error: issue(el, INVALID_SIP_URI, '<Sip> has no URI') };
  const check = ctx.options.validateSipUri?.(uri) ?? { ok: true };
  if (!check.ok) {
    return {
      ok: false,
      error: issue(el, check.twilioCode ?? INVALID_SIP_URI, `invalid <Sip> target "${uri}": ${check.message}`),
    };
  }
  const a = new Attrs(el, ctx);
  const value: SipNoun = { kind: 'sip', uri, ...readCommon(a, 13241) };
  const username = a.str('username');
  const password = a.str('password');
  if (username !== undefined) value.username = username;
  if (password !== undefined) value.password = password;
  if (a.str('sendDigits') !== undefined) a.warn(13242, '<Sip> sendDigits is unsupported without media; ignored');
  readAmd(a);
  a.finish();
  return { ok: true, value };
}
