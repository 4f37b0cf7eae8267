/**
 * Patchbay's own tasks for `parse-message.bench.ts`, kept apart so the parser's author can add them
 * without touching the suite.
 *
 * Contract:
 * - `patchbayTasks(fixtures)` is called once per bench run, before any measurement, with every
 *   message fixture. It builds whatever the tasks need (for instance the inline engine from
 *   `runtime/wasm/engine.ts`, or a pool) and may return a promise while it does.
 * - It returns any number of tasks per fixture. Each task names the fixture it reads and its mode:
 *   `parse` tasks are compared with the JavaScript peers' `parse()`, `parse+proxy` tasks with their
 *   `proxyFields()` (parse, then read top Via branch, Call-ID, CSeq number, From tag and To tag).
 * - `fn` is the measured call: it takes the fixture bytes it closed over and returns something
 *   derived from the work (the result is kept, so it cannot be optimised away). Nothing may be
 *   compiled, instantiated or allocated up front inside `fn`.
 * - Task names should start with `patchbay`, e.g. `patchbay inline parse`; the suite shows them
 *   as given, and they must not collide with a peer task name.
 */
import type { MessageFixture, MessageFixtureName } from '../lib/fixtures.js';
import { createParser } from '../../runtime/wasm/load.js';

/** What a task measures, and so which JavaScript peer tasks it is compared with. */
export type ParseMode = 'parse' | 'parse+proxy';

/** One measured Patchbay call on one fixture. */
export interface PatchbayTask {
  /** Row label in the suite table. */
  name: string;
  /** The measured call. */
  fn: () => unknown;
  /** The fixture `fn` parses; the task goes into that fixture's suite. */
  fixture: MessageFixtureName;
  /** The comparison group. */
  mode: ParseMode;
}

/**
 * Builds Patchbay's parse tasks: the inline WASM parser (release build) on
 * the calling thread, in two forms each:
 * - `patchbay inline index`: copy into linear memory + index (no strings);
 * - `patchbay inline +proxy strings`: the same, then the five proxy fields as strings.
 * @param fixtures - every message fixture, loaded once
 * @returns the tasks, in the order they should be printed
 */
export function patchbayTasks(fixtures: readonly MessageFixture[]): PatchbayTask[] {
  const parser = createParser({ flavour: 'release' });
  const tasks: PatchbayTask[] = [];
  for (const fixture of fixtures) {
    const bytes = fixture.bytes;
    const check = parser.parse(bytes);
    if (!check.ok) throw new Error(`patchbay refuses ${fixture.name}: ${check.error?.name} at ${check.error?.offset}`);
    tasks.push({
      name: 'patchbay inline index',
      fixture: fixture.name,
      mode: 'parse',
      fn: () => parser.parse(bytes).headerCount,
    });
    tasks.push({
      name: 'patchbay inline +proxy strings',
      fixture: fixture.name,
      mode: 'parse+proxy',
      fn: () => {
        const v = parser.parse(bytes);
        return { branch: v.branch, callId: v.callId, cseq: v.cseqNumber, fromTag: v.fromTag, toTag: v.toTag };
      },
    });
  }
  return tasks;
}
