/**
 * metrics/increment: what counting one SIP message costs. Each call counts
 * two messages, an inbound INVITE and an inbound 200, so the series are the
 * ones a call touches.
 *
 * - `TransportCounters.countIn (hand-written Map)`: what the transport layer
 *   does per message, before and after /metrics moved to prom-client (the
 *   exposition reads these numbers at scrape time);
 * - `prom-client cached child .inc()`: `counter.labels(...)` made once, then
 *   `inc()` per message; prom-client still hashes the labels into a new
 *   string and validates them on every call;
 * - `prom-client inc(labels)`: a labels object per call site, made once.
 */
import { Counter, Registry } from 'prom-client';
import { TransportCounters } from '../../runtime/transport/stats.js';
import type { BenchSuite } from '../lib/types.js';

export function register(): BenchSuite[] {
  const suite: BenchSuite = {
    name: 'metrics/increment',
    baselineLabel: 'TransportCounters.countIn',
    tasks: [],
    setup() {
      const counters = new TransportCounters();
      const registry = new Registry();
      const requests = new Counter({ name: 'bench_sip_requests_total', help: 'h', labelNames: ['direction', 'method'], registers: [registry] });
      const responses = new Counter({ name: 'bench_sip_responses_total', help: 'h', labelNames: ['direction', 'status'], registers: [registry] });
      const invite = requests.labels({ direction: 'in', method: 'INVITE' });
      const ok = responses.labels({ direction: 'in', status: '200' });
      const inviteLabels = { direction: 'in', method: 'INVITE' };
      const okLabels = { direction: 'in', status: '200' };
      suite.tasks = [
        { name: 'TransportCounters.countIn (hand-written Map)', fn: () => { counters.countIn('INVITE', 0); counters.countIn(undefined, 200); }, opsPerCall: 2, reference: true },
        { name: 'prom-client cached child .inc()', fn: () => { invite.inc(); ok.inc(); }, opsPerCall: 2 },
        { name: 'prom-client inc(labels)', fn: () => { requests.inc(inviteLabels); responses.inc(okLabels); }, opsPerCall: 2 },
      ];
      return Promise.resolve();
    },
  };
  return [suite];
}
