/**
 * The daemon's Prometheus metrics (`GET /metrics`). Counters that only
 * events can tell (calls by final status, webhook latency, API requests)
 * are accumulated here from the call store's feed and the webhook client's
 * `onComplete`; everything else is read from the sources at scrape time.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | patchbay_calls_total | counter | status (final statuses only) |
 * | patchbay_calls_created_total | counter | direction |
 * | patchbay_call_alerts_total | counter | level (warning, error), code |
 * | patchbay_calls_live | gauge | | (calls in the store not yet final)
 * | patchbay_calls_active, patchbay_dialogs_active | gauge | |
 * | patchbay_transactions_active | gauge | kind (client, server) |
 * | patchbay_calls_handled_total | counter | | (INVITEs admitted since start)
 * | patchbay_draining | gauge | |
 * | patchbay_sip_requests_total | counter | direction (in, out), method (registered methods; any other is `other`) |
 * | patchbay_sip_responses_total | counter | direction, status |
 * | patchbay_sip_keepalives_total | counter | direction |
 * | patchbay_sip_parse_errors_total | counter | code (ABI error name; PB_ERR_VIA, PB_ERR_ESCAPED_CTL: refused by the transport layer) |
 * | patchbay_sip_send_errors_total | counter | code |
 * | patchbay_sip_unanswered_total | counter | reason (unsafe-header, missing-header, ack, not-a-request) |
 * | patchbay_pool_batching | gauge | | (1 while datagrams are batched)
 * | patchbay_pool_queue_depth, patchbay_pool_queue_depth_peak | gauge | | (datagrams waiting)
 * | patchbay_pool_batches_total, patchbay_pool_batched_datagrams_total | counter | path (pool, inline) — their ratio is the mean batch size |
 * | patchbay_pool_direct_datagrams_total, patchbay_pool_busy_fallbacks_total, patchbay_pool_failures_total, patchbay_pool_overflows_total | counter | |
 * | patchbay_webhook_duration_seconds | histogram | method; buckets .005 … 10 |
 * | patchbay_webhook_failures_total | counter | code (Twilio code, e.g. 11205) |
 * | patchbay_http_requests_total | counter | route, status |
 * | patchbay_cdr_records_total, patchbay_cdr_syncs_total, patchbay_cdr_rotations_total, patchbay_cdr_errors_total, patchbay_cdr_dropped_total | counter | |
 * | patchbay_cdr_pending | gauge | |
 * | patchbay_auth_challenges_total, patchbay_auth_failures_total | counter | | (401s sent; wrong credentials) |
 * | patchbay_auth_lockouts_total | counter | scope (source, user) | (locks started after repeated failures) |
 * | patchbay_auth_locked_total | counter | scope | (requests refused while locked) |
 * | patchbay_ratelimited_total | counter | method (registered methods, other), action (rejected: 503, dropped) |
 * | patchbay_ratelimit_blocks_total, patchbay_ratelimit_evictions_total | counter | |
 * | patchbay_ratelimit_sources | gauge | | (sources tracked) |
 * | process_resident_memory_bytes, process_start_time_seconds | gauge | |
 * | process_cpu_seconds_total | counter | |
 */
import type { DaemonStats } from '../daemon.js';
import type { CallStore } from '../calls/store.js';
import { FINAL_STATUSES } from '../calls/record.js';
import type { TransportStats } from '../transport/stats.js';
import type { CdrStats } from '../cdr/writer.js';
import type { WebhookOutcome } from '../webhooks/client.js';
import type { AdmissionStats } from '../auth/admission.js';
import type { RateLimitStats } from '../auth/rate-limit.js';
import { Exposition, Histogram, fromRecord, type Sample } from './exposition.js';

/** Upper bounds of the webhook latency histogram, in seconds. */
export const WEBHOOK_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Where the metrics come from; each source is optional. */
export interface MetricsSources {
  store?: CallStore;
  stats?: () => DaemonStats;
  transportStats?: () => TransportStats;
  cdr?: () => CdrStats;
  admission?: () => { admission: AdmissionStats; rateLimit: RateLimitStats };
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

const START_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/** The registry behind `GET /metrics`. */
export class Metrics {
  readonly #sources: MetricsSources;
  readonly #finals = new Map<string, number>();
  readonly #created = new Map<string, number>();
  readonly #alerts = new Map<string, { level: string; code: string; value: number }>();
  readonly #webhookLatency = new Map<string, Histogram>();
  readonly #webhookFailures = new Map<string, number>();
  readonly #http = new Map<string, { route: string; status: string; value: number }>();
  readonly #unsubscribe: (() => void) | undefined;

  constructor(sources: MetricsSources = {}) {
    this.#sources = sources;
    // every series exists from the start, so rate() sees the first increment
    for (const status of FINAL_STATUSES) this.#finals.set(status, 0);
    for (const direction of ['inbound', 'outbound-api', 'outbound-dial']) this.#created.set(direction, 0);
    this.#unsubscribe = sources.store?.on((event) => {
      if (event.type === 'call.created') bump(this.#created, event.call.direction);
      else if (event.type === 'call.status' && FINAL_STATUSES.has(event.call.status)) bump(this.#finals, event.call.status);
      else if (event.type === 'warning' || event.type === 'error') {
        const key = `${event.type}\u0000${event.code}`;
        const entry = this.#alerts.get(key) ?? { level: event.type, code: String(event.code), value: 0 };
        entry.value++;
        this.#alerts.set(key, entry);
      }
    });
  }

  /** The webhook client's `onComplete` (an arrow function: pass it as is). */
  readonly observeWebhook = (outcome: WebhookOutcome): void => {
    let histogram = this.#webhookLatency.get(outcome.method);
    if (!histogram) {
      histogram = new Histogram(WEBHOOK_BUCKETS);
      this.#webhookLatency.set(outcome.method, histogram);
    }
    histogram.observe(outcome.ms / 1000);
    if (!outcome.ok) bump(this.#webhookFailures, String(outcome.twilioCode ?? 11200));
  };

  /** Count one answered API request. */
  observeHttp(route: string, status: number): void {
    const key = `${route}\u0000${status}`;
    const entry = this.#http.get(key) ?? { route, status: String(status), value: 0 };
    entry.value++;
    this.#http.set(key, entry);
  }

  /** Stop listening to the store. */
  close(): void {
    this.#unsubscribe?.();
  }

  /** @return the exposition text (Prometheus 0.0.4). */
  render(): string {
    const x = new Exposition();
    this.#calls(x);
    this.#transport(x);
    this.#webhooks(x);
    x.counter('patchbay_http_requests_total', 'HTTP API requests answered, by route and status.',
      [...this.#http.values()].map(({ route, status, value }) => ({ labels: { route, status }, value })));
    this.#cdr(x);
    this.#admission(x);
    const cpu = process.cpuUsage();
    x.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', [{ value: process.memoryUsage.rss() }]);
    x.gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch in seconds.', [{ value: START_SECONDS }]);
    x.counter('process_cpu_seconds_total', 'User and system CPU time spent in seconds.', [{ value: (cpu.user + cpu.system) / 1e6 }]);
    return x.toString();
  }

  #calls(x: Exposition): void {
    x.counter('patchbay_calls_total', 'Calls that reached a final status since start, by status.', fromRecord(Object.fromEntries(this.#finals), 'status'));
    x.counter('patchbay_calls_created_total', 'Call legs created since start, by direction.', fromRecord(Object.fromEntries(this.#created), 'direction'));
    x.counter('patchbay_call_alerts_total', 'Warnings and errors raised on calls, by level and Twilio code.',
      [...this.#alerts.values()].map(({ level, code, value }) => ({ labels: { level, code }, value })));
    const { store, stats } = this.#sources;
    if (store) x.gauge('patchbay_calls_live', 'Call legs not yet in a final status.', [{ value: store.liveCount }]);
    if (!stats) return;
    const s = stats();
    x.gauge('patchbay_calls_active', 'Active calls (bridged or run by TwiML).', [{ value: s.calls }]);
    x.gauge('patchbay_dialogs_active', 'Active SIP dialogs.', [{ value: s.dialogs }]);
    x.gauge('patchbay_transactions_active', 'Active SIP transactions, by kind.', [{ labels: { kind: 'client' }, value: s.clientTx }, { labels: { kind: 'server' }, value: s.serverTx }]);
    x.counter('patchbay_calls_handled_total', 'INVITEs admitted since start.', [{ value: s.callsTotal }]);
    x.gauge('patchbay_draining', '1 while the daemon drains (not ready).', [{ value: s.draining ? 1 : 0 }]);
  }

  #transport(x: Exposition): void {
    const { transportStats } = this.#sources;
    if (!transportStats) return;
    const t = transportStats();
    const both = (pick: (d: TransportStats['in']) => Record<string, number>, label: string): Sample[] =>
      [...fromRecord(pick(t.in), label, { direction: 'in' }), ...fromRecord(pick(t.out), label, { direction: 'out' })];
    x.counter('patchbay_sip_requests_total', 'SIP requests received and sent, by method.', both((d) => d.requests, 'method'));
    x.counter('patchbay_sip_responses_total', 'SIP responses received and sent, by status code.', both((d) => d.responses, 'status'));
    x.counter('patchbay_sip_keepalives_total', 'RFC 5626 keep-alives received (pings) and sent (pongs).',
      [{ labels: { direction: 'in' }, value: t.in.keepAlives }, { labels: { direction: 'out' }, value: t.out.keepAlives }]);
    x.counter('patchbay_sip_parse_errors_total', 'Received SIP messages that did not parse, by error code.', fromRecord(t.parseErrors, 'code'));
    x.counter('patchbay_sip_send_errors_total', 'Failed SIP sends, by error code.', fromRecord(t.sendErrors, 'code'));
    const streams = Object.entries(t.connections ?? {});
    if (streams.length > 0) {
      x.gauge('patchbay_sip_connections_open', 'Inbound TCP/TLS connections open.', streams.map(([transport, c]) => ({ labels: { transport }, value: c.open })));
      x.counter('patchbay_sip_connections_refused_total', 'Inbound TCP/TLS connections refused at accept, by reason (total, per-source, reserved).',
        streams.flatMap(([transport, c]) => fromRecord(c.refused, 'reason', { transport })));
      x.counter('patchbay_sip_connections_closed_total', 'TCP/TLS connections Patchbay closed itself, by reason (idle, message-timeout, frame-error).',
        streams.flatMap(([transport, c]) => fromRecord(c.closed, 'reason', { transport })));
    }
    x.counter('patchbay_sip_unanswered_total', 'Received SIP messages that did not parse and got no stateless answer, by reason (unsafe-header: a header the answer must copy holds a control character).', fromRecord(t.unanswered, 'reason'));
    const b = t.batching;
    if (!b) return;
    x.gauge('patchbay_pool_batching', '1 while received datagrams are batched for the parser pool.', [{ value: b.batching ? 1 : 0 }]);
    x.gauge('patchbay_pool_queue_depth', 'Datagrams waiting (collected or with the pool).', [{ value: b.waiting }]);
    x.gauge('patchbay_pool_queue_depth_peak', 'Most datagrams ever waiting.', [{ value: b.peakWaiting }]);
    x.counter('patchbay_pool_batches_total', 'Batches delivered, by where they were parsed.',
      [{ labels: { path: 'pool' }, value: b.pooledBatches }, { labels: { path: 'inline' }, value: b.inlineBatches }]);
    x.counter('patchbay_pool_batched_datagrams_total', 'Datagrams delivered in batches, by where they were parsed (÷ batches = mean batch size).',
      [{ labels: { path: 'pool' }, value: b.pooled }, { labels: { path: 'inline' }, value: b.inline }]);
    x.counter('patchbay_pool_direct_datagrams_total', 'Datagrams parsed inline on arrival (no batch).', [{ value: b.direct }]);
    x.counter('patchbay_pool_busy_fallbacks_total', 'Batches the pool refused as busy (parsed inline).', [{ value: b.busyFallbacks }]);
    x.counter('patchbay_pool_failures_total', 'Batches the pool failed otherwise (parsed inline).', [{ value: b.poolFailures }]);
    x.counter('patchbay_pool_overflows_total', 'Times the waiting limit was reached.', [{ value: b.overflows }]);
  }

  #webhooks(x: Exposition): void {
    x.histogram('patchbay_webhook_duration_seconds', 'Webhook request time (retries and redirects included), by HTTP method.',
      [...this.#webhookLatency].sort(([a], [b]) => (a < b ? -1 : 1)).map(([method, histogram]) => ({ labels: { method }, histogram })));
    x.counter('patchbay_webhook_failures_total', 'Webhook requests that failed, by Twilio error code.', fromRecord(Object.fromEntries(this.#webhookFailures), 'code'));
  }

  #admission(x: Exposition): void {
    const { admission } = this.#sources;
    if (!admission) return;
    const { admission: a, rateLimit: r } = admission();
    const scopes = (counts: { source: number; user: number }): Sample[] =>
      [{ labels: { scope: 'source' }, value: counts.source }, { labels: { scope: 'user' }, value: counts.user }];
    x.counter('patchbay_auth_challenges_total', 'Digest challenges (401) sent to inbound INVITEs.', [{ value: a.challenges }]);
    x.counter('patchbay_auth_failures_total', 'Inbound INVITEs refused for wrong credentials.', [{ value: a.failures }]);
    x.counter('patchbay_auth_lockouts_total', 'Sources and users locked out after repeated failed attempts, by scope.', scopes(a.lockouts));
    x.counter('patchbay_auth_locked_total', 'Inbound INVITEs refused while their source or user was locked out, by scope.', scopes(a.locked));
    x.counter('patchbay_ratelimited_total', 'Requests over the per-source rate limit, by method and action (rejected with 503, dropped).',
      r.limited.sort((p, q) => (p.method < q.method ? -1 : p.method > q.method ? 1 : p.action < q.action ? -1 : 1))
        .map(({ method, action, value }) => ({ labels: { method, action }, value })));
    x.counter('patchbay_ratelimit_blocks_total', 'Times a source was blocked by the rate limit.', [{ value: r.blocks }]);
    x.counter('patchbay_ratelimit_evictions_total', 'Sources forgotten early because the rate-limit table was full.', [{ value: r.evictions }]);
    x.gauge('patchbay_ratelimit_sources', 'Sources the rate limit tracks.', [{ value: r.sources }]);
  }

  #cdr(x: Exposition): void {
    const { cdr } = this.#sources;
    if (!cdr) return;
    const c = cdr();
    x.counter('patchbay_cdr_records_total', 'CDR lines (call starts, answers and ends) written and fsync\'d.', [{ value: c.records }]);
    x.counter('patchbay_cdr_syncs_total', 'fsync calls of the CDR file.', [{ value: c.syncs }]);
    x.counter('patchbay_cdr_rotations_total', 'CDR file rotations.', [{ value: c.rotations }]);
    x.counter('patchbay_cdr_errors_total', 'Failed CDR writes (retried).', [{ value: c.errors }]);
    x.counter('patchbay_cdr_dropped_total', 'Call records dropped after repeated write failures.', [{ value: c.dropped }]);
    x.gauge('patchbay_cdr_pending', 'CDR lines waiting for the next fsync.', [{ value: c.pending }]);
  }
}
