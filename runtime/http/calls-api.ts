/**
 * The Calls resource (Twilio API 2010-04-01), independent of uWS: each
 * operation takes decoded parameters and returns the HTTP status and JSON
 * body to answer with. Validation follows Twilio's documented codes (see
 * errors.ts for the table).
 *
 * - POST Calls.json: create (→ CallControl.originate), 201.
 * - GET Calls.json: list, newest first, Twilio paging (Page, PageSize ≤ 1000,
 *   no PageToken) and filters To, From, Status, ParentCallSid and
 *   StartTime / EndTime with their `<` (on or before) and `>` (on or after) forms.
 * - GET Calls/{Sid}.json: fetch.
 * - POST Calls/{Sid}.json: Status=completed|canceled ends the call
 *   (→ CallControl.end); otherwise Url(+Method) or Twiml redirects it
 *   (→ CallControl.redirect).
 */
import { isSid } from '../calls/sid.js';
import { FINAL_STATUSES, type CallRecord } from '../calls/record.js';
import type { CallStore } from '../calls/store.js';
import type { CallControl, ControlResult, OriginateRequest } from '../calls/control.js';
import type { Form } from './body.js';
import { accountPath, callJson, type CallJson } from './call-json.js';
import { ApiError, badRequest } from './errors.js';

/** What the Calls resource works on. */
export interface CallsApiDeps {
  readonly store: CallStore;
  readonly control: CallControl;
  readonly accountSid: string;
}

/** An answer: HTTP status and JSON body. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** Twilio's default and largest page sizes. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
/** Longest inline TwiML Twilio accepts (error 32018). */
export const MAX_TWIML_CHARS = 4000;
/** Ring time bounds of Timeout, in seconds (Twilio: default 60, at most 600). */
const MAX_TIMEOUT_SECONDS = 600;

const EVENTS = new Set(['initiated', 'ringing', 'answered', 'completed']);
type CallbackEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

/** @return true for an absolute http(s) URL with a host. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function method(form: Form, name: string): 'GET' | 'POST' | undefined | ApiError {
  const value = form.get(name);
  if (value === undefined || value === '') return undefined;
  const upper = value.toUpperCase();
  if (upper !== 'GET' && upper !== 'POST') return badRequest(21209, `${name} must be GET or POST, got ${JSON.stringify(value)}`);
  return upper;
}

function twiml(form: Form): string | undefined | ApiError {
  const value = form.get('Twiml');
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_TWIML_CHARS) return badRequest(32018, `Twiml is ${value.length} characters; at most ${MAX_TWIML_CHARS} are allowed`);
  return value;
}

function url(form: Form): string | undefined | ApiError {
  const value = form.get('Url');
  if (value === undefined || value === '') return undefined;
  if (!isHttpUrl(value)) return badRequest(21205, `Url ${JSON.stringify(value)} is not a valid absolute http or https URL`);
  return value;
}

function statusCallbackEvents(form: Form): CallbackEvent[] | undefined | ApiError {
  const values = form.getAll('StatusCallbackEvent').flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== '');
  if (values.length === 0) return undefined;
  const events: CallbackEvent[] = [];
  for (const raw of values) {
    const value = raw.toLowerCase();
    if (!EVENTS.has(value)) return badRequest(21626, `StatusCallbackEvent ${JSON.stringify(raw)} is not one of initiated, ringing, answered, completed`);
    if (!events.includes(value as CallbackEvent)) events.push(value as CallbackEvent);
  }
  return events;
}

/**
 * Validate the parameters of POST Calls.json.
 * @return the originate request, or the first problem found
 */
export function validateCreate(form: Form): OriginateRequest | ApiError {
  const to = form.get('To')?.trim() ?? '';
  if (to === '') return badRequest(21201, "No 'To' number is specified");
  if (!/^sips?:/i.test(to)) return badRequest(21211, `The 'To' ${JSON.stringify(to)} is not a valid SIP URI (sip: or sips:)`);
  if (to.split('?')[0]!.length >= 255) return badRequest(21211, "The 'To' SIP URI must be shorter than 255 characters (headers not counted)");
  const from = form.get('From')?.trim() ?? '';
  if (from === '') return badRequest(21213, "A 'From' is required");
  const request: OriginateRequest = { to, from };
  const u = url(form);
  if (u instanceof ApiError) return u;
  const t = twiml(form);
  if (t instanceof ApiError) return t;
  if (u === undefined && t === undefined) return badRequest(21205, 'Either Url or Twiml must be given');
  if (u !== undefined) request.url = u;
  if (t !== undefined) request.twiml = t;
  const m = method(form, 'Method');
  if (m instanceof ApiError) return m;
  if (m !== undefined) request.method = m;
  const callback = form.get('StatusCallback');
  if (callback !== undefined && callback !== '') {
    if (!isHttpUrl(callback)) return badRequest(21609, `StatusCallback ${JSON.stringify(callback)} is not a valid absolute http or https URL`);
    request.statusCallback = callback;
  }
  const cm = method(form, 'StatusCallbackMethod');
  if (cm instanceof ApiError) return cm;
  if (cm !== undefined) request.statusCallbackMethod = cm;
  const events = statusCallbackEvents(form);
  if (events instanceof ApiError) return events;
  if (events !== undefined) request.statusCallbackEvent = events;
  const timeout = form.get('Timeout');
  if (timeout !== undefined && timeout !== '') {
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1) return badRequest(21208, `Timeout must be a positive whole number of seconds, got ${JSON.stringify(timeout)}`);
    request.timeout = Math.min(Number(timeout), MAX_TIMEOUT_SECONDS);
  }
  const user = form.get('SipAuthUsername');
  if (user !== undefined && user !== '') request.sipAuthUsername = user;
  const password = form.get('SipAuthPassword');
  if (password !== undefined && password !== '') request.sipAuthPassword = password;
  return request;
}

function answer(result: ControlResult<CallRecord>, okStatus: number): ApiAnswer {
  if (result.ok) return { status: okStatus, body: callJson(result.value) };
  const { status, code, message } = result.error;
  return { status, body: new ApiError(status, code, message).toJSON() };
}

/** POST Calls.json. */
export async function createCall(deps: CallsApiDeps, form: Form): Promise<ApiAnswer> {
  const request = validateCreate(form);
  if (request instanceof ApiError) return { status: request.status, body: request.toJSON() };
  return answer(await deps.control.originate(request), 201);
}

/** GET Calls/{Sid}.json. */
export function fetchCall(deps: CallsApiDeps, sid: string): ApiAnswer | ApiError {
  const record = deps.store.get(sid);
  if (!record || record.accountSid !== deps.accountSid) return new ApiError(404, 20404, `The requested resource ${accountPath(deps.accountSid, `Calls/${sid}.json`)} was not found`);
  return { status: 200, body: callJson(record) };
}

/** POST Calls/{Sid}.json. */
export function updateCall(deps: CallsApiDeps, sid: string, form: Form): ApiAnswer | ApiError {
  const found = fetchCall(deps, sid);
  if (found instanceof ApiError) return found;
  const record = deps.store.get(sid)!;
  const status = form.get('Status');
  if (status !== undefined && status !== '' && status !== 'completed' && status !== 'canceled') {
    return badRequest(400, `Status must be completed or canceled, got ${JSON.stringify(status)}`);
  }
  const u = url(form);
  if (u instanceof ApiError) return u;
  const t = twiml(form);
  if (t instanceof ApiError) return t;
  const m = method(form, 'Method');
  if (m instanceof ApiError) return m;
  if ((status === undefined || status === '') && u === undefined && t === undefined) return badRequest(400, 'One of Url, Twiml or Status is required');
  if (FINAL_STATUSES.has(record.status)) return badRequest(21220, `Call is not in progress (status ${record.status}): it cannot be modified`);
  if (status === 'completed' || status === 'canceled') return answer(deps.control.end(sid, status), 200);
  const source = t !== undefined ? { twiml: t } : { url: u!, method: m ?? 'POST' as const };
  return answer(deps.control.redirect(sid, source), 200);
}

/** The Calls list page body. */
export interface CallsPage {
  calls: CallJson[];
  end: number;
  first_page_uri: string;
  next_page_uri: string | null;
  page: number;
  page_size: number;
  previous_page_uri: string | null;
  start: number;
  uri: string;
}

const FILTERS = ['To', 'From', 'Status', 'ParentCallSid'] as const;
const TIME_FILTERS = ['StartTime', 'StartTime<', 'StartTime>', 'EndTime', 'EndTime<', 'EndTime>'] as const;
const DAY_MS = 86_400_000;

/**
 * A StartTime/EndTime filter value as Twilio takes it: `YYYY-MM-DD` (that UTC
 * day, from its midnight) or an ISO 8601 time such as the twilio client sends
 * (`2024-01-02T03:04:05Z`, that second).
 * @return the start of the day or second and the end (exclusive), or undefined when unreadable
 */
function timeSpan(raw: string): { from: number; to: number } | undefined {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  if (day) {
    const from = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    return new Date(from).toISOString().startsWith(raw) ? { from, to: from + DAY_MS } : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(raw)) return undefined;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : { from: at, to: at + 1000 };
}

/** Whether `time` (a call's start or end, ms) passes `name` (`StartTime`, `StartTime<`, `StartTime>`…) with `span`. */
function timeMatches(name: string, span: { from: number; to: number }, time: number | undefined): boolean {
  if (time === undefined) return false;
  if (name.endsWith('<')) return time <= span.from; // "on or before midnight of this date"
  if (name.endsWith('>')) return time >= span.from;
  return time >= span.from && time < span.to;
}

function nonNegativeInt(query: Form, name: string, fallback: number): number | ApiError {
  const raw = query.get(name);
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) return badRequest(400, `${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** GET Calls.json. */
export function listCalls(deps: CallsApiDeps, query: Form): ApiAnswer | ApiError {
  const size = nonNegativeInt(query, 'PageSize', DEFAULT_PAGE_SIZE);
  if (size instanceof ApiError) return size;
  if (size === 0) return badRequest(400, 'PageSize must be at least 1');
  const pageSize = Math.min(size, MAX_PAGE_SIZE);
  const page = nonNegativeInt(query, 'Page', 0);
  if (page instanceof ApiError) return page;
  const filters: Array<[string, string]> = [];
  for (const name of FILTERS) {
    const value = query.get(name);
    if (value !== undefined && value !== '') filters.push([name, value]);
  }
  const parent = query.get('ParentCallSid');
  if (parent !== undefined && parent !== '' && !isSid(parent, 'CA')) return badRequest(400, `ParentCallSid ${JSON.stringify(parent)} is not a CallSid`);
  const spans = new Map<string, { from: number; to: number }>();
  for (const name of TIME_FILTERS) {
    const value = query.get(name);
    if (value === undefined || value === '') continue;
    const span = timeSpan(value);
    if (!span) return badRequest(400, `${name} must be a date (YYYY-MM-DD) or an ISO 8601 time, got ${JSON.stringify(value)}`);
    spans.set(name, span);
    filters.push([name, value]);
  }
  const matches = deps.store.list().filter((c) => c.accountSid === deps.accountSid && filters.every(([name, value]) => {
    const span = spans.get(name);
    if (span) return timeMatches(name, span, name.startsWith('Start') ? c.startTime : c.endTime);
    if (name === 'To') return c.to === value;
    if (name === 'From') return c.from === value;
    if (name === 'Status') return c.status === value;
    return c.parentCallSid === value;
  }));
  const start = page * pageSize;
  const slice = matches.slice(start, start + pageSize);
  const pageUri = (p: number): string => {
    const params = new URLSearchParams(filters);
    params.set('PageSize', String(pageSize));
    params.set('Page', String(p));
    return `${accountPath(deps.accountSid, 'Calls.json')}?${params.toString()}`;
  };
  const body: CallsPage = {
    calls: slice.map(callJson),
    end: slice.length > 0 ? start + slice.length - 1 : start,
    first_page_uri: pageUri(0),
    next_page_uri: start + pageSize < matches.length ? pageUri(page + 1) : null,
    page,
    page_size: pageSize,
    previous_page_uri: page > 0 ? pageUri(page - 1) : null,
    start,
    uri: pageUri(page),
  };
  return { status: 200, body };
}
