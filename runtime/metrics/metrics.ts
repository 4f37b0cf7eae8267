/**
 * The daemon's Prometheus metrics (`GET /metrics`), written by prom-client
 * from a Registry of its own (never prom-client's global one, so two
 * daemons in one process do not share counters). Counters that only events
 * can tell (calls by final status, webhook latency, API requests) are
 * incremented here from the call store's feed and the webhook client's
 * `onComplete`; everything else is read from the sources at scrape time.
 * The per-message SIP counters stay plain numbers in the transport layer
 * (TransportCounters): a prom-client `inc()`, even on a cached labelled
 * child, hashes its labels into a new string per call, which the hot path
 * must not do (bench/metrics/increment.bench.ts).
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
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DaemonStats } from '../daemon.js';
import type { CallStore } from '../calls/store.js';
import { FINAL_STATUSES } from '../calls/record.js';
import type { TransportStats } from '../transport/stats.js';
import type { CdrStats } from '../cdr/writer.js';
import type { WebhookOutcome } from '../webhooks/client.js';
import type { AdmissionStats } from '../auth/admission.js';
import type { RateLimitStats } from '../auth/rate-limit.js';

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

/** Label names and values of one sample, in the order they are written. */
type Labels = Record<string, string>;

/** One sample of a family read at scrape time. */
interface Sample {
  labels?: Labels;
  value: number;
}

/** @return samples from a `{key: count}` map sorted by key, one label named `label` after the `extra` ones. */
function fromRecord(record: Readonly<Record<string, number>>, label: string, extra: Labels = {}): Sample[] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ labels: { ...extra, [label]: key }, value }));
}

/** A family whose samples are copied from a source at each scrape. */
class Scraped {
  readonly #metric: Counter | Gauge;

  constructor(metric: Counter | Gauge) {
    this.#metric = metric;
  }

  /** Replace every sample. */
  write(samples: readonly Sample[]): void {
    const m = this.#metric;
    m.reset();
    for (const { labels, value } of samples) {
      if (m instanceof Counter) {
        if (labels) m.inc(labels, value);
        else m.inc(value);
      } else if (labels) m.set(labels, value);
      else m.set(value);
    }
  }
}

/** Families that appear only while their source has data (pool batching, stream connections). */
class Section {
  readonly #registry: Registry;
  readonly #metrics: Array<{ name: string; metric: Counter | Gauge }> = [];
  #shown = false;

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  add(name: string, metric: Counter | Gauge): void {
    this.#metrics.push({ name, metric });
  }

  /** Register the families when `shown`, remove them otherwise. */
  show(shown: boolean): void {
    if (shown === this.#shown) return;
    this.#shown = shown;
    for (const { name, metric } of this.#metrics) {
      if (shown) this.#registry.registerMetric(metric);
      else this.#registry.removeSingleMetric(name);
    }
  }
}

const START_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/** The registry behind `GET /metrics`. */
export class Metrics {
  /** The prom-client registry: an embedder may register its own families in it. */
  readonly registry = new Registry();
  readonly #sources: MetricsSources;
  readonly #finals: Counter;
  readonly #created: Counter;
  readonly #alerts: Counter;
  readonly #webhookLatency: Histogram;
  readonly #webhookFailures: Counter;
  readonly #http: Counter;
  /** Copies the sources into the scraped families; run synchronously before each render. */
  readonly #scrapers: Array<() => void> = [];
  readonly #unsubscribe: (() => void) | undefined;

  constructor(sources: MetricsSources = {}) {
    this.#sources = sources;
    const registers = [this.registry];
    const counter = (name: string, help: string, labelNames: string[] = []): Counter => new Counter({ name, help, labelNames, registers });
    this.#finals = counter('patchbay_calls_total', 'Calls that reached a final status since start, by status.', ['status']);
    this.#created = counter('patchbay_calls_created_total', 'Call legs created since start, by direction.', ['direction']);
    this.#alerts = counter('patchbay_call_alerts_total', 'Warnings and errors raised on calls, by level and Twilio code.', ['level', 'code']);
    // every series exists from the start, so rate() sees the first increment
    for (const status of [...FINAL_STATUSES].sort()) this.#finals.inc({ status }, 0);
    for (const direction of ['inbound', 'outbound-api', 'outbound-dial']) this.#created.inc({ direction }, 0);
    this.#calls();
    this.#transport();
    this.#webhookLatency = new Histogram({
      name: 'patchbay_webhook_duration_seconds', help: 'Webhook request time (retries and redirects included), by HTTP method.',
      labelNames: ['method'], buckets: [...WEBHOOK_BUCKETS], registers,
    });
    this.#webhookFailures = counter('patchbay_webhook_failures_total', 'Webhook requests that failed, by Twilio error code.', ['code']);
    this.#http = counter('patchbay_http_requests_total', 'HTTP API requests answered, by route and status.', ['route', 'status']);
    this.#cdr();
    this.#admission();
    this.#process();
    this.#unsubscribe = sources.store?.on((event) => {
      if (event.type === 'call.created') this.#created.inc({ direction: event.call.direction });
      else if (event.type === 'call.status' && FINAL_STATUSES.has(event.call.status)) this.#finals.inc({ status: event.call.status });
      else if (event.type === 'warning' || event.type === 'error') this.#alerts.inc({ level: event.type, code: String(event.code) });
    });
  }

  /** The webhook client's `onComplete` (an arrow function: pass it as is). */
  readonly observeWebhook = (outcome: WebhookOutcome): void => {
    this.#webhookLatency.observe({ method: outcome.method }, outcome.ms / 1000);
    if (!outcome.ok) this.#webhookFailures.inc({ code: String(outcome.twilioCode ?? 11200) });
  };

  /** Count one answered API request. */
  observeHttp(route: string, status: number): void {
    this.#http.inc({ route, status: String(status) });
  }

  /** Stop listening to the store. */
  close(): void {
    this.#unsubscribe?.();
  }

  /** @return the exposition text (Prometheus 0.0.4; families are separated by an empty line, which the format ignores). */
  render(): Promise<string> {
    for (const scrape of this.#scrapers) scrape();
    return this.registry.metrics();
  }

  /** A counter or gauge read from a source; `read` runs at each scrape. */
  #scraped(type: 'counter' | 'gauge', name: string, help: string, labelNames: string[], section?: Section): Scraped {
    const registers = section ? [] : [this.registry];
    const metric = type === 'counter' ? new Counter({ name, help, labelNames, registers }) : new Gauge({ name, help, labelNames, registers });
    section?.add(name, metric);
    return new Scraped(metric);
  }

  #calls(): void {
    const { store, stats } = this.#sources;
    if (store) {
      const live = this.#scraped('gauge', 'patchbay_calls_live', 'Call legs not yet in a final status.', []);
      this.#scrapers.push(() => live.write([{ value: store.liveCount }]));
    }
    if (!stats) return;
    const active = this.#scraped('gauge', 'patchbay_calls_active', 'Active calls (bridged or run by TwiML).', []);
    const dialogs = this.#scraped('gauge', 'patchbay_dialogs_active', 'Active SIP dialogs.', []);
    const transactions = this.#scraped('gauge', 'patchbay_transactions_active', 'Active SIP transactions, by kind.', ['kind']);
    const handled = this.#scraped('counter', 'patchbay_calls_handled_total', 'INVITEs admitted since start.', []);
    const draining = this.#scraped('gauge', 'patchbay_draining', '1 while the daemon drains (not ready).', []);
    this.#scrapers.push(() => {
      const s = stats();
      active.write([{ value: s.calls }]);
      dialogs.write([{ value: s.dialogs }]);
      transactions.write([{ labels: { kind: 'client' }, value: s.clientTx }, { labels: { kind: 'server' }, value: s.serverTx }]);
      handled.write([{ value: s.callsTotal }]);
      draining.write([{ value: s.draining ? 1 : 0 }]);
    });
  }

  #transport(): void {
    const { transportStats } = this.#sources;
    if (!transportStats) return;
    const requests = this.#scraped('counter', 'patchbay_sip_requests_total', 'SIP requests received and sent, by method.', ['direction', 'method']);
    const responses = this.#scraped('counter', 'patchbay_sip_responses_total', 'SIP responses received and sent, by status code.', ['direction', 'status']);
    const keepAlives = this.#scraped('counter', 'patchbay_sip_keepalives_total', 'RFC 5626 keep-alives received (pings) and sent (pongs).', ['direction']);
    const parseErrors = this.#scraped('counter', 'patchbay_sip_parse_errors_total', 'Received SIP messages that did not parse, by error code.', ['code']);
    const sendErrors = this.#scraped('counter', 'patchbay_sip_send_errors_total', 'Failed SIP sends, by error code.', ['code']);
    const streams = new Section(this.registry);
    const open = this.#scraped('gauge', 'patchbay_sip_connections_open', 'Inbound TCP/TLS connections open.', ['transport'], streams);
    const refused = this.#scraped('counter', 'patchbay_sip_connections_refused_total', 'Inbound TCP/TLS connections refused at accept, by reason (total, per-source, reserved).', ['transport', 'reason'], streams);
    const closed = this.#scraped('counter', 'patchbay_sip_connections_closed_total', 'TCP/TLS connections Patchbay closed itself, by reason (idle, message-timeout, frame-error).', ['transport', 'reason'], streams);
    const unanswered = this.#scraped('counter', 'patchbay_sip_unanswered_total', 'Received SIP messages that did not parse and got no stateless answer, by reason (unsafe-header: a header the answer must copy holds a control character).', ['reason']);
    const pool = new Section(this.registry);
    const batching = this.#scraped('gauge', 'patchbay_pool_batching', '1 while received datagrams are batched for the parser pool.', [], pool);
    const depth = this.#scraped('gauge', 'patchbay_pool_queue_depth', 'Datagrams waiting (collected or with the pool).', [], pool);
    const peak = this.#scraped('gauge', 'patchbay_pool_queue_depth_peak', 'Most datagrams ever waiting.', [], pool);
    const batches = this.#scraped('counter', 'patchbay_pool_batches_total', 'Batches delivered, by where they were parsed.', ['path'], pool);
    const batched = this.#scraped('counter', 'patchbay_pool_batched_datagrams_total', 'Datagrams delivered in batches, by where they were parsed (÷ batches = mean batch size).', ['path'], pool);
    const direct = this.#scraped('counter', 'patchbay_pool_direct_datagrams_total', 'Datagrams parsed inline on arrival (no batch).', [], pool);
    const busy = this.#scraped('counter', 'patchbay_pool_busy_fallbacks_total', 'Batches the pool refused as busy (parsed inline).', [], pool);
    const failures = this.#scraped('counter', 'patchbay_pool_failures_total', 'Batches the pool failed otherwise (parsed inline).', [], pool);
    const overflows = this.#scraped('counter', 'patchbay_pool_overflows_total', 'Times the waiting limit was reached.', [], pool);
    this.#scrapers.push(() => {
      const t = transportStats();
      const both = (pick: (d: TransportStats['in']) => Record<string, number>, label: string): Sample[] =>
        [...fromRecord(pick(t.in), label, { direction: 'in' }), ...fromRecord(pick(t.out), label, { direction: 'out' })];
      requests.write(both((d) => d.requests, 'method'));
      responses.write(both((d) => d.responses, 'status'));
      keepAlives.write([{ labels: { direction: 'in' }, value: t.in.keepAlives }, { labels: { direction: 'out' }, value: t.out.keepAlives }]);
      parseErrors.write(fromRecord(t.parseErrors, 'code'));
      sendErrors.write(fromRecord(t.sendErrors, 'code'));
      const connections = Object.entries(t.connections ?? {});
      streams.show(connections.length > 0);
      open.write(connections.map(([transport, c]) => ({ labels: { transport }, value: c.open })));
      refused.write(connections.flatMap(([transport, c]) => fromRecord(c.refused, 'reason', { transport })));
      closed.write(connections.flatMap(([transport, c]) => fromRecord(c.closed, 'reason', { transport })));
      unanswered.write(fromRecord(t.unanswered, 'reason'));
      const b = t.batching;
      pool.show(b !== undefined);
      if (!b) return;
      batching.write([{ value: b.batching ? 1 : 0 }]);
      depth.write([{ value: b.waiting }]);
      peak.write([{ value: b.peakWaiting }]);
      batches.write([{ labels: { path: 'pool' }, value: b.pooledBatches }, { labels: { path: 'inline' }, value: b.inlineBatches }]);
      batched.write([{ labels: { path: 'pool' }, value: b.pooled }, { labels: { path: 'inline' }, value: b.inline }]);
      direct.write([{ value: b.direct }]);
      busy.write([{ value: b.busyFallbacks }]);
      failures.write([{ value: b.poolFailures }]);
      overflows.write([{ value: b.overflows }]);
    });
  }

  #admission(): void {
    const { admission } = this.#sources;
    if (!admission) return;
    const challenges = this.#scraped('counter', 'patchbay_auth_challenges_total', 'Digest challenges (401) sent to inbound INVITEs.', []);
    const authFailures = this.#scraped('counter', 'patchbay_auth_failures_total', 'Inbound INVITEs refused for wrong credentials.', []);
    const lockouts = this.#scraped('counter', 'patchbay_auth_lockouts_total', 'Sources and users locked out after repeated failed attempts, by scope.', ['scope']);
    const locked = this.#scraped('counter', 'patchbay_auth_locked_total', 'Inbound INVITEs refused while their source or user was locked out, by scope.', ['scope']);
    const limited = this.#scraped('counter', 'patchbay_ratelimited_total', 'Requests over the per-source rate limit, by method and action (rejected with 503, dropped).', ['method', 'action']);
    const blocks = this.#scraped('counter', 'patchbay_ratelimit_blocks_total', 'Times a source was blocked by the rate limit.', []);
    const evictions = this.#scraped('counter', 'patchbay_ratelimit_evictions_total', 'Sources forgotten early because the rate-limit table was full.', []);
    const tracked = this.#scraped('gauge', 'patchbay_ratelimit_sources', 'Sources the rate limit tracks.', []);
    const scopes = (counts: { source: number; user: number }): Sample[] =>
      [{ labels: { scope: 'source' }, value: counts.source }, { labels: { scope: 'user' }, value: counts.user }];
    this.#scrapers.push(() => {
      const { admission: a, rateLimit: r } = admission();
      challenges.write([{ value: a.challenges }]);
      authFailures.write([{ value: a.failures }]);
      lockouts.write(scopes(a.lockouts));
      locked.write(scopes(a.locked));
      limited.write([...r.limited].sort((p, q) => (p.method < q.method ? -1 : p.method > q.method ? 1 : p.action < q.action ? -1 : 1))
        .map(({ method, action, value }) => ({ labels: { method, action }, value })));
      blocks.write([{ value: r.blocks }]);
      evictions.write([{ value: r.evictions }]);
      tracked.write([{ value: r.sources }]);
    });
  }

  #cdr(): void {
    const { cdr } = this.#sources;
    if (!cdr) return;
    const records = this.#scraped('counter', 'patchbay_cdr_records_total', 'CDR lines (call starts, answers and ends) written and fsync\'d.', []);
    const syncs = this.#scraped('counter', 'patchbay_cdr_syncs_total', 'fsync calls of the CDR file.', []);
    const rotations = this.#scraped('counter', 'patchbay_cdr_rotations_total', 'CDR file rotations.', []);
    const errors = this.#scraped('counter', 'patchbay_cdr_errors_total', 'Failed CDR writes (retried).', []);
    const dropped = this.#scraped('counter', 'patchbay_cdr_dropped_total', 'Call records dropped after repeated write failures.', []);
    const pending = this.#scraped('gauge', 'patchbay_cdr_pending', 'CDR lines waiting for the next fsync.', []);
    this.#scrapers.push(() => {
      const c = cdr();
      records.write([{ value: c.records }]);
      syncs.write([{ value: c.syncs }]);
      rotations.write([{ value: c.rotations }]);
      errors.write([{ value: c.errors }]);
      dropped.write([{ value: c.dropped }]);
      pending.write([{ value: c.pending }]);
    });
  }

  /** The three process families Patchbay always had (not prom-client's default set, which starts timers). */
  #process(): void {
    const rss = this.#scraped('gauge', 'process_resident_memory_bytes', 'Resident memory size in bytes.', []);
    const start = this.#scraped('gauge', 'process_start_time_seconds', 'Start time of the process since the Unix epoch in seconds.', []);
    const cpu = this.#scraped('counter', 'process_cpu_seconds_total', 'User and system CPU time spent in seconds.', []);
    this.#scrapers.push(() => {
      const usage = process.cpuUsage();
      rss.write([{ value: process.memoryUsage.rss() }]);
      start.write([{ value: START_SECONDS }]);
      cpu.write([{ value: (usage.user + usage.system) / 1e6 }]);
    });
  }
}
