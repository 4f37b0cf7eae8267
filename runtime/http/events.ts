/**
 * The live event stream: a WebSocket at
 * `/2010-04-01/Accounts/{AccountSid}/Events` publishing every CallEvent of
 * the store as one JSON text message (uWS pub/sub).
 *
 * - Authentication at the upgrade: `Authorization: Basic
 *   base64(AccountSid:AuthToken)`, or, for browsers (which cannot set
 *   headers on a WebSocket), `?token=<AuthToken>` in the query. A token in a
 *   URL can end up in proxy logs: use it over TLS or loopback only.
 * - `?CallSid=CA…` narrows the stream to one call and its child legs
 *   (events whose call has that SID as ParentCallSid).
 * - Messages are `{sequence, type, timestamp, call_sid, …}` in snake_case;
 *   `call` is the Call resource JSON of the REST API (call-json.ts).
 * - The server never reads messages from the client; a client that falls
 *   more than 1 MiB behind is disconnected.
 */
import { eventCallSid, type CallEvent } from '../calls/record.js';
import type { CallStore } from '../calls/store.js';
import { isSid } from '../calls/sid.js';
import { basicChecker, safeEqual, WWW_AUTHENTICATE, type ApiCredentials } from './auth.js';
import { parseForm } from './body.js';
import { callJson } from './call-json.js';
import { ApiError, statusLine } from './errors.js';
import type { HttpResponse, TemplatedApp } from './uws.js';

/** Path pattern of the stream. */
export const EVENTS_PATTERN = '/2010-04-01/Accounts/:account/Events';

const ALL = 'calls';
const topicOf = (sid: string): string => `calls/${sid}`;

/** Per-socket data. */
interface Subscriber {
  topic: string;
}

/** @return the wire JSON of an event (see the module comment). */
export function eventJson(event: CallEvent, sequence: number): Record<string, unknown> {
  const base = { sequence, type: event.type, timestamp: new Date(event.at).toISOString(), call_sid: eventCallSid(event) };
  switch (event.type) {
    case 'call.created':
      return { ...base, call: callJson(event.call) };
    case 'call.status':
      return { ...base, previous_status: event.previous, call: callJson(event.call) };
    case 'dial.attempt':
      return { ...base, child_call_sid: event.childSid, target: event.target };
    case 'transfer':
      return { ...base, stage: event.stage, target: event.target ?? null, detail: event.detail ?? null };
    default:
      return { ...base, code: event.code, message: event.message, more_info: `https://www.twilio.com/docs/errors/${event.code}` };
  }
}

function refuse(res: HttpResponse, error: ApiError, headers: Array<[string, string]> = []): void {
  res.cork(() => {
    res.writeStatus(statusLine(error.status)).writeHeader('Content-Type', 'application/json; charset=utf-8');
    for (const [n, v] of headers) res.writeHeader(n, v);
    res.end(JSON.stringify(error.toJSON()));
  });
}

/** The mounted stream. */
export interface EventStream {
  /** Open sockets. */
  readonly clients: number;
  /** Stop publishing (sockets close with the app). */
  close(): void;
}

/**
 * Mount the stream on `app`.
 * @param credentials - undefined: every upgrade gets 503 (API not configured)
 */
export function mountEvents(app: TemplatedApp, store: CallStore | undefined, credentials: ApiCredentials | undefined): EventStream {
  let clients = 0;
  let sequence = 0;
  const basic = credentials ? basicChecker(credentials) : () => false;
  app.ws<Subscriber>(EVENTS_PATTERN, {
    maxPayloadLength: 4 * 1024,
    maxBackpressure: 1024 * 1024,
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const authorization = req.getHeader('authorization');
      const account = req.getParameter(0);
      const query = parseForm(req.getQuery() ?? '');
      if (!credentials || !store) {
        refuse(res, new ApiError(503, 503, 'The event stream is not configured (no AccountSid/AuthToken)'));
        return;
      }
      if (query instanceof ApiError) {
        refuse(res, query);
        return;
      }
      const token = query.get('token');
      const authorized = basic(authorization) || (token !== undefined && safeEqual(token, credentials.authToken));
      if (!authorized) {
        refuse(res, new ApiError(401, 20003, 'Authenticate'), [['WWW-Authenticate', WWW_AUTHENTICATE]]);
        return;
      }
      if (account !== credentials.accountSid) {
        refuse(res, new ApiError(404, 20404, `The requested resource /2010-04-01/Accounts/${account}/Events was not found`));
        return;
      }
      const callSid = query.get('CallSid');
      if (callSid !== undefined && !isSid(callSid, 'CA')) {
        refuse(res, new ApiError(400, 400, `CallSid ${JSON.stringify(callSid)} is not a CallSid`));
        return;
      }
      res.upgrade<Subscriber>({ topic: callSid === undefined ? ALL : topicOf(callSid) }, key, protocol, extensions, context);
    },
    open: (ws) => {
      clients++;
      ws.subscribe(ws.getUserData().topic);
    },
    close: () => {
      clients--;
    },
  });
  const unsubscribe = store?.on((event) => {
    if (clients === 0) {
      sequence++; // numbered even when nobody listens, as the docs promise
      return;
    }
    const sid = eventCallSid(event);
    const parent = 'call' in event ? event.call.parentCallSid : undefined;
    const topics = [ALL, topicOf(sid)];
    if (parent !== undefined) topics.push(topicOf(parent));
    const live = topics.filter((t) => app.numSubscribers(t) > 0);
    sequence++;
    if (live.length === 0) return;
    const message = JSON.stringify(eventJson(event, sequence));
    for (const topic of live) app.publish(topic, message);
  });
  return {
    get clients() {
      return clients;
    },
    close: () => unsubscribe?.(),
  };
}
