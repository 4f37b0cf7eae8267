/**
 * `patchbay serve`: run the daemon until SIGTERM/SIGINT, then drain.
 *
 * Start-up order: the CDR read back and its writer opened (when a CDR
 * directory is set), the daemon, the writer attached to its call store (in
 * the same tick: no call starts unrecorded), the completed calls restored,
 * the calls the previous process lost closed (their closing lines fsync'd,
 * then their completed status callbacks sent, see cdr/recovery.ts), the
 * metrics and the HTTP side. Shutdown: drain the daemon, close HTTP, then
 * flush and close the CDR writer.
 */
import { loadConfig, serveHelp, ConfigError } from '../config.js';
import { createLogger } from '../log.js';
import { startDaemon } from '../daemon.js';
import type { WebhookOutcome } from '../webhooks/client.js';
import { startHttp } from '../http/server.js';
import { Metrics } from '../metrics/metrics.js';
import { CdrWriter, attachCdr } from '../cdr/writer.js';
import { readCdr, type CdrReadResult } from '../cdr/reader.js';
import { closeLostCallsDurably, sendLostCallbacks } from '../cdr/recovery.js';

/** Completed calls restored from the CDR at start-up (the store's window). */
const RESTORE_LIMIT = 10_000;

/** Run the daemon; resolves with the exit code once it has stopped. */
export async function serveCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${serveHelp()}\n`);
    return 0;
  }
  let config;
  try {
    config = loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`patchbay serve: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(config.log.level);
  // the REST API and event stream use the account that signs webhooks; no auth token = API disabled
  const credentials = config.twiml.authToken !== '' ? { accountSid: config.twiml.accountSid, authToken: config.twiml.authToken } : undefined;
  const settings = { credentials, cdrDir: config.cdr.dir, cdrMaxBytes: config.cdr.maxBytes, cdrKeep: config.cdr.keep };
  let observeWebhook: ((outcome: WebhookOutcome) => void) | undefined;
  let daemon;
  let http;
  let cdr: CdrWriter | undefined;
  let detachCdr: (() => void) | undefined;
  let metrics: Metrics | undefined;
  /** The completed callbacks of the calls the previous process lost, while they are sent. */
  let lostCallbacks: Promise<unknown> = Promise.resolve();
  const cdrLog = log.child('cdr');
  try {
    let restored: CdrReadResult | undefined;
    if (settings.cdrDir !== undefined) {
      // read as the previous process left it (the writer's heartbeat starts once the daemon runs)
      restored = await readCdr(settings.cdrDir, RESTORE_LIMIT);
      cdr = await CdrWriter.open({
        dir: settings.cdrDir, maxBytes: settings.cdrMaxBytes, keep: settings.cdrKeep,
        onError: (error) => cdrLog.error('cdr write failed', { error: error.message }),
      });
    }
    daemon = await startDaemon(config, log, { onWebhook: (outcome) => observeWebhook?.(outcome) });
    if (cdr && restored) {
      detachCdr = attachCdr(daemon.calls, cdr);
      cdr.startHeartbeat();
      daemon.calls.restore(restored.records);
      // closed only by a daemon that runs: one that failed to start leaves them to the next start
      const { closed, durable } = await closeLostCallsDurably(cdr, restored.open, restored.lastAlive);
      daemon.calls.restore(closed);
      log.info('cdr restored', {
        dir: settings.cdrDir, calls: restored.records.length, lostCalls: closed.length, skippedLines: restored.skipped, files: restored.files.length,
        lastAlive: restored.lastAlive > 0 ? new Date(restored.lastAlive).toISOString() : null,
      });
      if (closed.length > 0 && !durable) {
        cdrLog.error('lost calls closed but their records not written: their status callbacks are not sent', { calls: closed.map((c) => c.sid) });
      } else if (closed.length > 0) {
        for (const c of closed) cdrLog.info('lost call closed', { callSid: c.sid, status: c.status, endTime: new Date(c.endTime!).toISOString(), duration: c.duration });
        lostCallbacks = sendLostCallbacks(daemon.webhooks, closed, (call, code, message) => cdrLog.warn('lost call status callback failed', { callSid: call.sid, code, message }))
          .then((r) => cdrLog.info('lost calls reported', { ...r }));
      }
    }
    const d = daemon;
    const writer = cdr;
    metrics = new Metrics({ store: d.calls, stats: () => d.stats(), transportStats: () => d.transportStats(), cdr: writer && (() => writer.stats), admission: () => d.admissionStats() });
    observeWebhook = metrics.observeWebhook;
    http = await startHttp({
      host: config.http.host, port: config.http.port, stats: () => d.stats(), store: d.calls, control: d.control,
      transportStats: () => d.transportStats(), accountSid: settings.credentials?.accountSid, authToken: settings.credentials?.authToken,
      metrics, log: log.child('http'),
    });
  } catch (err) {
    log.error('cannot start', { error: (err as Error).message });
    await lostCallbacks;
    detachCdr?.();
    metrics?.close();
    await cdr?.close();
    daemon?.close();
    return 1;
  }
  if (!settings.credentials) log.warn('REST API disabled: set --auth-token (and --account-sid)');
  log.info('ready', { pid: process.pid, http: `http://${config.http.host}:${http.port}`, sip: daemon.endpoints, cdr: settings.cdrDir ?? null });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal, graceSeconds: config.drainGraceSeconds });
      void Promise.all([daemon.drain(config.drainGraceSeconds * 1000), lostCallbacks]).then(async () => {
        http.close();
        metrics?.close();
        detachCdr?.();
        await cdr?.close();
        log.info('stopped', daemon.stats() as unknown as Record<string, unknown>);
        resolve(0);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
