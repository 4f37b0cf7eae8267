/**
 * parseTwiml: a TwiML voice document → typed verbs plus warnings, or the
 * first fatal error, with Twilio's debugger codes (12100, 12102, 12200...:
 * https://www.twilio.com/docs/api/errors).
 */
import { PARSE_FAILURE, SCHEMA_WARNING, issue, textOf, type ParseContext } from './element.js';
import { UNSUPPORTED_VERBS, VERBS } from './registry.js';
import type { ParseTwimlOptions, Result, TwimlDocument, TwimlError, Verb } from './types.js';
import { parseXml } from './xml.js';

/** Root element is not `<Response>`. */
export const ROOT_NOT_RESPONSE = 12102;

/**
 * Parse and validate a TwiML document.
 * - not XML / empty / several roots → 12100; root other than `<Response>` → 12102
 * - unknown verb → 12100; invalid dial target → the validator's (or 132xx) code
 * - invalid attribute values fall back to defaults with their 132xx warning;
 *   unknown attributes warn 12200; media verbs become `{kind:'unsupported'}`
 *   with warning 12200.
 */
export function parseTwiml(xml: string, options: ParseTwimlOptions = {}): Result<TwimlDocument, TwimlError> {
  const root = parseXml(xml);
  if (!root.ok) return root;
  const el = root.value;
  if (el.name !== 'Response') {
    return { ok: false, error: issue(el, ROOT_NOT_RESPONSE, `root element is <${el.name}>, expected <Response>`) };
  }
  const ctx: ParseContext = { warnings: [], options };
  if (textOf(el) !== '') ctx.warnings.push(issue(el, SCHEMA_WARNING, 'text directly inside <Response> is ignored'));
  if (Object.keys(el.attrs).length > 0) {
    ctx.warnings.push(issue(el, SCHEMA_WARNING, '<Response> attributes are ignored'));
  }
  const verbs: Verb[] = [];
  for (const child of el.children) {
    const entry = VERBS[child.name];
    if (entry !== undefined) {
      const r = entry.parse(child, ctx);
      if (!r.ok) return r;
      verbs.push(r.value);
    } else if (UNSUPPORTED_VERBS.includes(child.name)) {
      verbs.push({ kind: 'unsupported', name: child.name });
      ctx.warnings.push(issue(child, SCHEMA_WARNING, `<${child.name}> needs media and is unsupported by this gateway; skipped`));
    } else {
      return { ok: false, error: issue(child, PARSE_FAILURE, `unknown verb <${child.name}>`) };
    }
  }
  return { ok: true, value: { verbs, warnings: ctx.warnings } };
}
