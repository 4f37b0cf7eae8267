/**
 * The set-up the TwiML suites share: a recording web app (the customer's
 * application), the daemon pointed at it with `--voice-url`, and scripted
 * test UAs as the dialled parties. `useTwimlRig` registers the vitest hooks
 * of the enclosing `describe`: start everything once, clear what was
 * recorded before each test, and after each test check that the daemon
 * settled with nothing left behind.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { haveSipp } from './sipp.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { startWebApp, type WebApp } from '../support/web-app.js';
import { startTestUa, type TestUa } from './test-ua.js';

/** What a suite's rig is made of. */
export interface TwimlRigOptions {
  /** The daemon's SIP port; its HTTP API listens on sipPort + 5. */
  readonly sipPort: number;
  /** `--listen` (default `udp:127.0.0.1:<sipPort>`). */
  readonly listen?: string;
  /** The auth token (webhook signatures, REST API). */
  readonly token: string;
  /** `--account-sid`, when the suite checks it. */
  readonly account?: string;
  /** Further daemon arguments (timers, routes, callbacks…); `--voice-url` is `<app>/voice`. */
  readonly args?: (app: WebApp) => string[];
  /** Ports of the scripted UAs, in the order `uas` lists them. */
  readonly uaPorts: readonly number[];
  /** After the reset before each test: routes and scripts every test starts from. */
  readonly beforeEach?: () => void;
  /** After the settle check after each test: further checks on what was recorded. */
  readonly afterEach?: () => void;
}

/** The running pieces, handed to the suite once started. */
export interface TwimlRig {
  readonly app: WebApp;
  readonly daemon: DaemonProcess;
  readonly uas: readonly TestUa[];
}

/**
 * Register the hooks of a TwiML suite (call inside `describe`).
 * @param options - ports, credentials, daemon arguments and per-test steps
 * @param ready - told the rig once it runs (assign the suite's variables there)
 */
export function useTwimlRig(options: TwimlRigOptions, ready: (rig: TwimlRig) => void): void {
  let app: WebApp | undefined;
  let daemon: DaemonProcess | undefined;
  const uas: TestUa[] = [];

  beforeAll(async () => {
    if (!haveSipp()) throw new Error('sipp is not installed: apt-get install -y sip-tester');
    app = await startWebApp(options.token);
    daemon = await startDaemonProcess([
      '--listen', options.listen ?? `udp:127.0.0.1:${options.sipPort}`,
      '--voice-url', `${app.base}/voice`, '--auth-token', options.token,
      ...(options.account ? ['--account-sid', options.account] : []),
      ...(options.args?.(app) ?? []),
    ], options.sipPort + 5);
    for (const port of options.uaPorts) uas.push(await startTestUa(port));
    ready({ app, daemon, uas });
  });
  afterAll(async () => {
    for (const ua of uas) ua.close();
    await daemon?.stop();
    await app?.close();
  });
  beforeEach(() => {
    app!.requests.length = 0;
    for (const ua of uas) ua.calls.length = 0;
    options.beforeEach?.();
  });
  afterEach(async () => {
    const stats = await daemon!.settle(15_000);
    expect(stats, 'nothing left behind').toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
    options.afterEach?.();
  });
}
