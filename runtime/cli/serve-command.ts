/**
 * `patchbay serve`: run the daemon until SIGTERM/SIGINT, then drain.
 */
import { loadConfig, serveHelp, ConfigError } from '../config.js';
import { createLogger } from '../log.js';
import { startDaemon } from '../daemon.js';
import { startHttp } from '../http/server.js';

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
  let daemon;
  let http;
  try {
    daemon = await startDaemon(config, log);
    http = await startHttp(config.http.host, config.http.port, () => daemon!.stats());
  } catch (err) {
    log.error('cannot start', { error: (err as Error).message });
    daemon?.close();
    return 1;
  }
  log.info('ready', { http: `http://${config.http.host}:${http.port}`, sip: daemon.endpoints });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal, graceSeconds: config.drainGraceSeconds });
      void daemon.drain(config.drainGraceSeconds * 1000).then(() => {
        http.close();
        log.info('stopped', daemon.stats() as unknown as Record<string, unknown>);
        resolve(0);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
