/**
 * `patchbay serve`: run the daemon until SIGTERM/SIGINT, then drain.
 *
 * Start-up order: the daemon, then the completed calls read back from the
 * CDR (when a CDR directory is set) into the call store, the CDR writer, the
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
import { readCdr } from '../cdr/reader.js';

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
  try {
    daemon = await startDaemon(config, log, { onWebhook: (outcome) => observeWebhook?.(outcome) });
    if (settings.cdrDir !== undefined) {
      const restored = await readCdr(settings.cdrDir, RESTORE_LIMIT);
      daemon.calls.restore(restored.records);
      log.info('cdr restored', { dir: settings.cdrDir, calls: restored.records.length, skippedLines: restored.skipped, files: restored.files.length });
      const cdrLog = log.child('cdr');
      const writer = await CdrWriter.open({
        dir: settings.cdrDir, maxBytes: settings.cdrMaxBytes, keep: settings.cdrKeep,
        onError: (error) => cdrLog.error('cdr write failed', { error: error.message }),
      });
      cdr = writer;
      detachCdr = attachCdr(daemon.calls, writer);
    }
    const d = daemon;
    const writer = cdr;
    metrics = new Metrics({ store: d.calls, stats: () => d.stats(), transportStats: () => d.transportStats(), cdr: writer && (() => writer.stats) });
    observeWebhook = metrics.observeWebhook;
    http = await startHttp({
      host: config.http.host, port: config.http.port, stats: () => d.stats(), store: d.calls, control: d.control,
      transportStats: () => d.transportStats(), accountSid: settings.credentials?.accountSid, authToken: settings.credentials?.authToken,
      metrics, log: log.child('http'),
    });
  } catch (err) {
    log.error('cannot start', { error: (err as Error).message });
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
      void daemon.drain(config.drainGraceSeconds * 1000).then(async () => {
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
