/**
 * The real daemon as users run it (dist/runtime/cli.js serve), started as a
 * child process on loopback ports, with its JSON logs kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import type { DaemonStats } from '../../runtime/daemon.js';
import { READY_TIMEOUT_MS } from './ready.js';

/** A daemon child process. */
export interface DaemonProcess {
  readonly httpPort: number;
  readonly logs: string[];
  stats(): Promise<DaemonStats>;
  /** Wait until every call, dialog and transaction is gone (bounded). */
  settle(timeoutMs: number): Promise<DaemonStats>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  readonly child: ChildProcess;
}

/** How to run the daemon somewhere else than here (the loss test's network namespace). */
export interface DaemonProcessOptions {
  /** Command prefix, e.g. `ip netns exec NAME`. */
  wrap?: (command: string, args: string[]) => [string, string[]];
  /** GET a URL of the daemon's HTTP API as text (default: fetch from this process). */
  fetchText?: (url: string) => Promise<string>;
}

/** Start `patchbay serve` with `args` plus an HTTP port; resolves once it logs "ready" (bounded by READY_TIMEOUT_MS). */
export function startDaemonProcess(args: string[], httpPort: number, options: DaemonProcessOptions = {}): Promise<DaemonProcess> {
  const argv = [join(ROOT, 'dist', 'runtime', 'cli.js'), 'serve', '--http', `127.0.0.1:${httpPort}`, ...args];
  const [command, wrapped] = options.wrap ? options.wrap(process.execPath, argv) : [process.execPath, argv];
  const child = spawn(command, wrapped, { stdio: ['ignore', 'pipe', 'pipe'] });
  const getText = options.fetchText ?? (async (url: string): Promise<string> => (await fetch(url)).text());
  const logs: string[] = [];
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stats = async (): Promise<DaemonStats> => {
    return JSON.parse(await getText(`http://127.0.0.1:${httpPort}/stats`)) as DaemonStats;
  };
  const daemon: DaemonProcess = {
    httpPort, logs, child, stats,
    async settle(timeoutMs: number): Promise<DaemonStats> {
      const deadline = Date.now() + timeoutMs;
      let s = await stats();
      while (Date.now() < deadline && (s.calls > 0 || s.dialogs > 0 || s.clientTx > 0 || s.serverTx > 0)) {
        await new Promise((r) => setTimeout(r, 200));
        s = await stats();
      }
      return s;
    },
    async stop(): Promise<number | null> {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not log "ready" within ${READY_TIMEOUT_MS} ms:\n${logs.join('\n')}`)), READY_TIMEOUT_MS);
    const onData = (d: Buffer): void => {
      buffered += d.toString();
      let i;
      while ((i = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        logs.push(line);
        if (line.includes('"msg":"ready"')) {
          clearTimeout(timer);
          resolve(daemon);
        }
      }
    };
    child.stderr!.on('data', onData);
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code}:\n${logs.join('\n')}${buffered}`));
    });
  });
}
