/**
 * The daemon's HTTP side on uWebSockets.js:
 *
 * - `GET /healthz` (alive), `GET /readyz` (503 while draining), `GET /stats`
 *   (live call, dialog and transaction counts as JSON), `GET /metrics`
 *   (Prometheus text, runtime/metrics);
 * - the Twilio-compatible Calls API under `/2010-04-01/Accounts/{AccountSid}/`
 *   (calls-api.ts), behind HTTP Basic auth with AccountSid:AuthToken;
 * - the live event stream, a WebSocket at
 *   `/2010-04-01/Accounts/{AccountSid}/Events` (events.ts).
 *
 * Without an AccountSid/AuthToken the API and the stream answer 503.
 */
import type { DaemonStats } from '../daemon.js';
import type { CallStore } from '../calls/store.js';
import type { CallControl } from '../calls/control.js';
import type { TransportStats } from '../transport/stats.js';
import type { Logger } from '../log.js';
import { Metrics } from '../metrics/metrics.js';
import { CONTENT_TYPE as METRICS_CONTENT_TYPE } from '../metrics/exposition.js';
import { basicChecker, WWW_AUTHENTICATE, type ApiCredentials } from './auth.js';
import { DEFAULT_MAX_BODY_BYTES, parseForm, parseFormBody, readBody, type Form } from './body.js';
import { createCall, fetchCall, listCalls, updateCall, type ApiAnswer, type CallsApiDeps } from './calls-api.js';
import { ApiError, notFound, statusLine } from './errors.js';
import { mountEvents, type EventStream } from './events.js';
import { closeApp, Reply, uws, type HttpRequest, type HttpResponse } from './uws.js';

/** What the HTTP side serves. */
export interface HttpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Live counts for /stats, /readyz and /metrics. */
  stats: () => DaemonStats;
  /** Calls for the REST API, the event stream and the metrics. */
  store?: CallStore;
  /** What POST Calls.json / Calls/{Sid}.json ask of the call layer. */
  control?: CallControl;
  /** SIP counters for /metrics. */
  transportStats?: () => TransportStats;
  /** The one account served; without both the API and the stream answer 503. */
  accountSid?: string;
  authToken?: string;
  /** The metrics registry (default: one built from stats, store and transportStats, closed with the server). */
  metrics?: Metrics;
  /** Largest request body (default 64 KiB; larger → 413). */
  maxBodyBytes?: number;
  log?: Logger;
}

/** A listening HTTP server. */
export interface HttpServer {
  readonly port: number;
  /** The WebSocket event stream. */
  readonly events: EventStream;
  /** Close the listener and every connection. */
  close(): void;
}

/** What a Calls handler sees: request data copied out of uWS. */
interface ApiRequest {
  account: string;
  sid: string;
  query: string;
  form: Form | undefined;
}

type ApiHandler = (deps: CallsApiDeps, request: ApiRequest) => ApiAnswer | ApiError | Promise<ApiAnswer | ApiError>;

const JSON_TYPE = 'application/json; charset=utf-8';

/** Start the HTTP server. */
export function startHttp(options: HttpOptions): Promise<HttpServer> {
  const { stats, store, control, log } = options;
  const credentials: ApiCredentials | undefined = options.accountSid && options.authToken
    ? { accountSid: options.accountSid, authToken: options.authToken } : undefined;
  const ownMetrics = options.metrics === undefined;
  const metrics = options.metrics ?? new Metrics({ stats, store, transportStats: options.transportStats });
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const authorized = credentials ? basicChecker(credentials) : () => false;
  const deps: CallsApiDeps | undefined = credentials && store && control ? { store, control, accountSid: credentials.accountSid } : undefined;
  const app = uws.App();

  const respond = (reply: Reply, route: string, status: number, body: unknown, headers: Array<[string, string]> = [], close = false): void => {
    reply.json(statusLine(status), body, headers, close);
    metrics.observeHttp(route, status);
  };
  const fail = (reply: Reply, route: string, error: ApiError, close = false): void => {
    const headers: Array<[string, string]> = error.status === 401 ? [['WWW-Authenticate', WWW_AUTHENTICATE]] : [];
    respond(reply, route, error.status, error.toJSON(), headers, close);
  };

  /** Auth, account check, body, then the handler; every failure becomes Twilio-style JSON. */
  const api = (route: string, withBody: boolean, handler: ApiHandler) => (res: HttpResponse, req: HttpRequest): void => {
    const reply = new Reply(res);
    const authorization = req.getHeader('authorization');
    const contentType = req.getHeader('content-type');
    const contentLength = req.getHeader('content-length');
    const hasBody = (contentLength !== '' && contentLength !== '0') || req.getHeader('transfer-encoding') !== '';
    const url = req.getUrl();
    const request: ApiRequest = { account: req.getParameter(0) ?? '', sid: req.getParameter(1) ?? '', query: req.getQuery() ?? '', form: undefined };
    void (async () => {
      let bodyRead = false;
      try {
        if (!deps || !credentials) throw new ApiError(503, 503, 'The REST API is not configured: set an AccountSid and AuthToken');
        if (!authorized(authorization)) throw new ApiError(401, 20003, 'Authenticate');
        if (request.account !== credentials.accountSid) throw notFound(url);
        if (withBody) {
          const body = await readBody(reply, contentLength, maxBody);
          if (body === undefined) return;
          if (body instanceof ApiError) throw body;
          bodyRead = true;
          const form = parseFormBody(body, contentType);
          if (form instanceof ApiError) throw form;
          request.form = form;
        }
        const result = await handler(deps, request);
        if (result instanceof ApiError) throw result;
        respond(reply, route, result.status, result.body);
      } catch (e) {
        const error = e instanceof ApiError ? e : new ApiError(500, 20500, 'Internal Server Error');
        if (!(e instanceof ApiError)) log?.error('http handler failed', { route, error: String(e) });
        // an unread upload would be parsed as the next request: close instead
        fail(reply, route, error, hasBody && !bodyRead);
      }
    })();
  };

  const callSid = (request: ApiRequest, url: string): string | ApiError => {
    if (!request.sid.endsWith('.json')) return notFound(url);
    return request.sid.slice(0, -'.json'.length);
  };
  const queryForm = (request: ApiRequest): Form | ApiError => parseForm(request.query);
  const withSid = (f: (deps: CallsApiDeps, sid: string, request: ApiRequest) => ApiAnswer | ApiError): ApiHandler => (d, request) => {
    const sid = callSid(request, `/2010-04-01/Accounts/${request.account}/Calls/${request.sid}`);
    return sid instanceof ApiError ? sid : f(d, sid, request);
  };
  const methodNotAllowed = (route: string) => api(route, false, () => new ApiError(405, 20004, 'Method not allowed'));

  const CALLS = '/2010-04-01/Accounts/:account/Calls.json';
  const CALL = '/2010-04-01/Accounts/:account/Calls/:call';
  app.get(CALLS, api('calls.list', false, (d, r) => {
    const query = queryForm(r);
    return query instanceof ApiError ? query : listCalls(d, query);
  }));
  app.post(CALLS, api('calls.create', true, (d, r) => createCall(d, r.form!)));
  app.any(CALLS, methodNotAllowed('calls'));
  app.get(CALL, api('call.fetch', false, withSid((d, sid) => fetchCall(d, sid))));
  app.post(CALL, api('call.update', true, withSid((d, sid, r) => updateCall(d, sid, r.form!))));
  app.any(CALL, methodNotAllowed('call'));
  const events = mountEvents(app, store, credentials);
  app.any('/2010-04-01/*', (res, req) => {
    const url = req.getUrl();
    api('unknown', false, () => notFound(url))(res, req);
  });

  app.get('/healthz', (res) => new Reply(res).json('200 OK', { status: 'ok' }));
  app.get('/readyz', (res) => {
    const s = stats();
    new Reply(res).json(s.draining ? '503 Service Unavailable' : '200 OK', { ready: !s.draining });
  });
  app.get('/stats', (res) => new Reply(res).json('200 OK', stats()));
  app.get('/metrics', (res) => {
    const reply = new Reply(res);
    metrics.render().then((text) => reply.send('200 OK', METRICS_CONTENT_TYPE, text), (e: unknown) => {
      log?.error('metrics failed', { error: String(e) });
      reply.send('500 Internal Server Error', 'text/plain; charset=utf-8', 'metrics failed\n');
    });
  });
  app.any('/*', (res, req) => {
    const reply = new Reply(res);
    const hasBody = req.getHeader('content-length') !== '' || req.getHeader('transfer-encoding') !== '';
    reply.send('404 Not Found', JSON_TYPE, JSON.stringify(notFound(req.getUrl()).toJSON()), [], hasBody);
  });

  return new Promise((resolve, reject) => {
    app.listen(options.host, options.port, (socket) => {
      if (!socket) {
        events.close();
        if (ownMetrics) metrics.close();
        reject(new Error(`cannot listen on http://${options.host}:${options.port}`));
        return;
      }
      resolve({
        port: uws.us_socket_local_port(socket),
        events,
        close: () => {
          events.close();
          if (ownMetrics) metrics.close();
          closeApp(app);
        },
      });
    });
  });
}
