/**
 * The contract between the verb runner (../runner.ts) and the verb
 * executors in this folder: the host a document runs on, and what one verb
 * did.
 */
import type { DialOpts, Verb } from '../../twiml/types.js';

/**
 * What the document runs on. `N` is what the host calls the next document
 * (the session's TwimlSource, screening's next URL).
 */
export interface VerbHost<N> {
  /** True once no further verb may run. */
  readonly stopped: boolean;
  /** An absolute URL (relative ones resolve against the running document's URL). */
  resolve(url: string): string;
  /** Wait `ms` on the call's clock (ends early when the host stops). */
  sleep(ms: number): Promise<void>;
  /** `<Hangup>`: the document ends here; the host hangs up (or declines) once it is over. */
  hangup(): void;
  /** `<Reject>`: refuse the call (busy, rejected). */
  reject(reason: 'busy' | 'rejected'): void;
  /** `<Redirect>`: the document that replaces this one (`url` is absolute). */
  redirect(url: string, method: 'GET' | 'POST'): N;
  /** `<Dial>`: carry it out; say whether the document goes on or what follows it. */
  dial(opts: DialOpts): Promise<VerbOutcome<N>>;
}

/** What one verb did: let the next verb run, or end the document (`next`: the document that follows, if any). */
export type VerbOutcome<N> = { done: false } | { done: true; next: N | undefined };

/** The next verb runs. */
export const CONTINUE: VerbOutcome<never> = Object.freeze({ done: false });
/** The document is over and nothing follows. */
export const END: VerbOutcome<never> = Object.freeze({ done: true, next: undefined });

/** Carries out one verb of kind `K` on a host. */
export type VerbExecutor<K extends Verb['kind']> = <N>(verb: Extract<Verb, { kind: K }>, host: VerbHost<N>) => VerbOutcome<N> | Promise<VerbOutcome<N>>;
