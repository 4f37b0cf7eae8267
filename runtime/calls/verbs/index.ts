/**
 * Verb executors by kind: the runner (../runner.ts) looks a verb up here.
 * A new verb is one file in this folder and one line in this table (its
 * parser goes to twiml/verbs/ and twiml/registry.ts).
 */
import type { Verb } from '../../twiml/types.js';
import type { VerbExecutor } from './verb.js';
import { dial } from './dial.js';
import { hangup } from './hangup.js';
import { pause } from './pause.js';
import { redirect } from './redirect.js';
import { reject } from './reject.js';
import { unsupported } from './unsupported.js';

/** Every verb kind the parser yields, with its executor. */
export const EXECUTORS: { readonly [K in Verb['kind']]: VerbExecutor<K> } = {
  dial, hangup, pause, redirect, reject, unsupported,
};
