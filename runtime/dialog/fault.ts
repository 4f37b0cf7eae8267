/**
 * Fault containment for the code that runs a call. Its handlers run from
 * SIP events, timers and promise chains: an exception leaving one reaches
 * nobody who can end that call (the call hangs, its transactions and
 * dialogs stay) or, from a timer or a promise, ends the whole process. So
 * every entry point catches, and ends its own call; the sends made while
 * ending it are tried one by one, so one that cannot be built (a value the
 * serializer refuses) does not stop the others.
 */

/** Told about an exception a call caught: what failed and where. */
export type FaultSink = (error: unknown, where: string) => void;

/**
 * Run `fn`; an exception goes to `onFault` instead of the caller.
 * @return what `fn` returned, or undefined when it threw
 */
export function attempt<T>(fn: () => T, onFault: FaultSink, where: string): T | undefined {
  try {
    return fn();
  } catch (error) {
    onFault(error, where);
    return undefined;
  }
}

/** @return a one-line description of a caught error (its stack when there is one). */
export function describeFault(error: unknown): string {
  return String((error as Error | undefined)?.stack ?? error);
}
