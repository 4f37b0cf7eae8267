/**
 * From a `<Dial>` noun to a ResolvedTarget: `<Sip>` URIs are taken apart by
 * the WASM validator (custom headers decoded, `region`/`edge` stripped from
 * the Request-URI, TLS on 5061 by default); `<Number>` and `<Client>` go
 * through the configured URI templates; the egress profile of the region
 * adds an outbound proxy.
 */
import { validateHeaderValue, validateSipTarget } from '../sip/sip-target.js';
import type { HeaderField } from '../sip/message.js';
import { unbracket, withoutUriParams } from '../sip/uri.js';
import { destinationOf, isLooseRoute } from '../dialog/target.js';
import type { DialNoun } from '../twiml/types.js';
import type { CallContext } from './context.js';
import type { Destination } from '../transport/transport.js';
import type { StatusCallbackSpec } from './status-callbacks.js';

/** Where a child call goes, resolved from a `<Dial>` noun. */
export interface ResolvedTarget {
  /** Request-URI (URI headers, region and edge removed). */
  uri: string;
  /** Custom headers from the URI, decoded. */
  headers: HeaderField[];
  destination: Destination;
  /** An outbound proxy (egress profile): sent as a loose Route. */
  route?: string;
  credentials?: { username: string; password: string };
  statusCallback?: StatusCallbackSpec;
  /** Screening TwiML URL run on the child after answer. */
  url?: string;
  method: 'GET' | 'POST';
}

/** A noun that cannot be dialled: Twilio code and message. */
export interface TargetError {
  code: number;
  message: string;
}

/** Invalid dial target / number format (no route configured for it). */
const NO_NUMBER_ROUTE = 13224;
const NO_CLIENT_ROUTE = 13224;
/** A custom header whose name starts with X-Twilio (as for `<Sip>` URI headers). */
const TWILIO_HEADER = 32113;
/** A control character would reach a header (as for `<Sip>` URI headers). */
const CTL_CHAR = 32112;

function fill(template: string, placeholder: string, value: string): string {
  return template.split(placeholder).join(encodeURIComponent(value).replace(/%2B/g, '+'));
}

/**
 * `<Client><Parameter name value>` as a custom header of the INVITE: `X-<name>`
 * (a name that already starts with `X-` is kept as it is), never an
 * X-Twilio header (32113, the rule `<Sip>` URI headers follow) and never a
 * value with CR, LF or another control character (32112). Characters that
 * cannot be in a header name are dropped; a name left empty is skipped.
 */
function clientParameterHeader(ctx: CallContext, identity: string, p: { name: string; value: string }): { field: HeaderField } | TargetError | undefined {
  const token = p.name.replace(/[^A-Za-z0-9-]/g, '');
  if (token === '' || /^x-?$/i.test(token)) return undefined;
  const name = /^x-/i.test(token) ? token : `X-${token}`;
  if (/^x-twilio/i.test(name)) {
    return { code: TWILIO_HEADER, message: `<Client>${identity}</Client>: <Parameter name="${p.name}"> would send ${name}; X-Twilio headers are Patchbay's own` };
  }
  const checked = validateHeaderValue(ctx.parser, p.value);
  if (!checked.ok) {
    return { code: checked.error.twilioCode ?? CTL_CHAR, message: `<Client>${identity}</Client>: <Parameter name="${p.name}">: ${checked.error.message}` };
  }
  return { field: [name, p.value] };
}

type Resolution = { ok: true; value: ResolvedTarget } | { ok: false; error: TargetError };

/**
 * Resolutions of nouns of cached (frozen) TwiML documents: the same document
 * dials the same targets, so each noun is resolved once per call context.
 */
const resolutions = new WeakMap<DialNoun, { ctx: CallContext; result: Resolution }>();

/**
 * Resolve one noun. The result is frozen (targets are read-only); for a noun
 * of a frozen document it is remembered while the document lives.
 */
export function resolveTarget(ctx: CallContext, noun: DialNoun): Resolution {
  if (!Object.isFrozen(noun)) return freezeResolution(resolveNoun(ctx, noun));
  const known = resolutions.get(noun);
  if (known?.ctx === ctx) return known.result;
  const result = freezeResolution(resolveNoun(ctx, noun));
  resolutions.set(noun, { ctx, result });
  return result;
}

function freezeResolution(result: Resolution): Resolution {
  if (!result.ok) return Object.freeze(result);
  const t = result.value;
  Object.freeze(t.destination);
  for (const h of t.headers) Object.freeze(h);
  Object.freeze(t.headers);
  if (t.credentials) Object.freeze(t.credentials);
  if (t.statusCallback) Object.freeze(t.statusCallback);
  Object.freeze(t);
  return Object.freeze(result);
}

function resolveNoun(ctx: CallContext, noun: DialNoun): Resolution {
  let uri: string;
  const extraHeaders: HeaderField[] = [];
  if (noun.kind === 'sip') {
    uri = noun.uri;
  } else if (noun.kind === 'number') {
    const t = ctx.config.numberRoute;
    if (!t) return { ok: false, error: { code: NO_NUMBER_ROUTE, message: `<Number>${noun.number}</Number>: no --number-route is configured to reach numbers` } };
    uri = fill(t, '{number}', noun.number.replace(/[\s().-]/g, ''));
  } else {
    const t = ctx.config.clientRoute;
    if (!t) return { ok: false, error: { code: NO_CLIENT_ROUTE, message: `<Client>${noun.identity}</Client>: no --client-route is configured to reach clients` } };
    uri = fill(t, '{client}', noun.identity);
    for (const p of noun.parameters) {
      const header = clientParameterHeader(ctx, noun.identity, p);
      if (!header) continue;
      if ('code' in header) return { ok: false, error: header };
      extraHeaders.push(header.field);
    }
  }
  const checked = validateSipTarget(ctx.parser, uri);
  if (!checked.ok) return { ok: false, error: { code: checked.error.twilioCode ?? 13243, message: `invalid dial target "${uri}": ${checked.error.message}` } };
  // the Request-URI: no URI headers, no region/edge (they pick our egress, they are not the far end's business)
  let requestUri = withoutUriParams(ctx.parser, checked.uri, ['region', 'edge']);
  if (checked.scheme === 'sips') requestUri = `sip:${requestUri.slice(5)}${'transport' in checked.params ? '' : ';transport=tls'}`;
  const headers: HeaderField[] = [...checked.headers.map((h): HeaderField => [h.name, h.value]), ...extraHeaders];
  const host = unbracket(checked.host);
  const egress = ctx.config.egress[checked.region];
  const target: ResolvedTarget = {
    uri: requestUri,
    headers,
    destination: { transport: checked.transport, host, port: checked.effectivePort },
    method: noun.method,
  };
  if (egress?.source) target.destination.source = egress.source;
  if (egress?.proxy) {
    const proxy = destinationOf(egress.proxy, checked.transport, ctx.parser);
    if (proxy) {
      target.destination = { ...proxy, source: egress.source };
      target.route = isLooseRoute(egress.proxy, ctx.parser) ? egress.proxy : `${egress.proxy};lr`;
    }
  }
  if (noun.kind === 'sip' && noun.username !== undefined) target.credentials = { username: noun.username, password: noun.password ?? '' };
  if (noun.statusCallback) target.statusCallback = { url: noun.statusCallback, method: noun.statusCallbackMethod, events: noun.statusCallbackEvent };
  if (noun.url) target.url = noun.url;
  return { ok: true, value: target };
}
