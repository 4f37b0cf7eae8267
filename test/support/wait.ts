/**
 * Waiting for a condition instead of sleeping: polls until it holds, with a deadline that only
 * bounds a hang (far above any run time on a loaded 2-core machine), never a test's pass/fail timing.
 */

/** Deadline of a wait: long enough for a loaded machine, short of the test timeouts. */
export const WAIT_TIMEOUT_MS = 60_000;

/** Poll interval. */
const POLL_MS = 10;

/** Options of {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this many ms (default WAIT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** A reason to fail at once (e.g. the process that should get ready has exited), or undefined. */
  failFast?: () => string | undefined;
  /** Poll interval in ms (default 10); a check that costs a request wants more. */
  pollMs?: number;
}

/**
 * Resolves once `check` returns true; rejects with `what` at the deadline or when `failFast` gives a reason.
 * @param what - what is awaited, for the error message
 * @param check - the condition (may be async)
 */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? WAIT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    const failed = options.failFast?.();
    if (failed !== undefined) throw new Error(`${what}: ${failed}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? POLL_MS));
  }
}

/**
 * Resolves with the first value `get` returns that is not undefined (polled every 100 ms unless
 * `options.pollMs` says otherwise); rejects with `what` at the deadline.
 * @param what - what is awaited, for the error message
 * @param get - the value, or undefined while it is not there yet (may be async)
 */
export async function waitForValue<T>(what: string, get: () => T | undefined | Promise<T | undefined>, options: WaitOptions = {}): Promise<T> {
  let value: T | undefined;
  // a value is usually fetched (an HTTP request, a file read): every 100 ms unless told
  await waitUntil(what, async () => (value = await get()) !== undefined, { pollMs: 100, ...options });
  return value as T;
}
