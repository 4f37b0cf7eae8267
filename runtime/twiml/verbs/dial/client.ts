/**
 * `<Client>` noun: an identity (text or `<Identity>`) and optional
 * `<Parameter name value>` children (https://www.twilio.com/docs/voice/twiml/client).
 */
import { Attrs, SCHEMA_WARNING, issue, textOf, type ParseContext, type TwimlElement } from '../../element.js';
import type { ClientNoun, Result, TwimlError } from '../../types.js';
import { readCommon } from './common.js';

/** Invalid nested element. */
const NESTED = 13215;
const IDENTITY = /^[^\s<>&"',;:/?#]{1,256}$/;

/** Parse a `<Client>` element. */
export function parse(el: TwimlElement, ctx: ParseContext): Result<ClientNoun, TwimlError> {
  let identity = textOf(el);
  const parameters: { name: string; value: string }[] = [];
  for (const child of el.children) {
    if (child.name === 'Identity') {
      identity = textOf(child);
    } else if (child.name === 'Parameter') {
      const name = child.attrs['name'];
      if (name === undefined || name === '') {
        ctx.warnings.push(issue(child, SCHEMA_WARNING, '<Parameter> without a name; ignored'));
      } else parameters.push({ name, value: child.attrs['value'] ?? '' });
    } else {
      return { ok: false, error: issue(child, NESTED, `<${child.name}> is not allowed inside <Client>`) };
    }
  }
  if (!IDENTITY.test(identity)) {
    return { ok: false, error: issue(el, 13224, `invalid <Client> identity "${identity}"`) };
  }
  const a = new Attrs(el, ctx);
  const value: ClientNoun = { kind: 'client', identity, parameters, ...readCommon(a, SCHEMA_WARNING) };
  a.accept('clientNotificationUrl');
  a.finish();
  return { ok: true, value };
}
