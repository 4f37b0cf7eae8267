/**
 * The shape of runtime/calls/ and its verb runner.
 *
 * Shape: the files' relative imports (type-only ones included) form no
 * cycle, and no file is a hub that every other file imports.
 *
 * Runner: documents run over the loop transport with the fake clock (no
 * sockets but the web app's loopback HTTP server): each verb kind on the
 * caller's call, a screening document on a dialled party, and the timers
 * of the call layer on the injected clock.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runVerbs, CONTINUE, END, type VerbHost } from '../../../runtime/calls/runner.js';
import type { Verb } from '../../../runtime/twiml/types.js';
import { CALLEE_PORT, callRig, callbacks, records, sentTo, type Rig } from './call-rig.js';

const CALLS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../runtime/calls');

/** Every .ts file under runtime/calls, relative to it, with the files under runtime/calls it imports. */
function importGraph(): Map<string, Set<string>> {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) files.push(join(dir, e.name));
    }
  };
  walk(CALLS);
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const deps = new Set<string>();
    // import … from './x.js', export … from './x.js', import './x.js', import('./x.js')
    for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      const rel = relative(CALLS, target);
      if (!rel.startsWith('..')) deps.add(rel);
    }
    graph.set(relative(CALLS, file), deps);
  }
  return graph;
}

/** The import cycles of `graph` (each as a path that returns to its start). */
function cycles(graph: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (state.get(dep) === 'open') found.push([...stack.slice(stack.indexOf(dep)), dep].join(' -> '));
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

describe('runtime/calls imports', () => {
  const graph = importGraph();

  it('are read: the session imports the runner, the runner the verb table, the table every verb', () => {
    expect(graph.get('session.ts')).toContain('runner.ts');
    expect(graph.get('runner.ts')).toContain('verbs/index.ts');
    expect([...graph.get('verbs/index.ts')!].sort()).toEqual(['verbs/dial.ts', 'verbs/hangup.ts', 'verbs/pause.ts', 'verbs/redirect.ts', 'verbs/reject.ts', 'verbs/unsupported.ts', 'verbs/verb.ts']);
    // every file of the folder is in the graph, and every edge points at a file of it
    for (const deps of graph.values()) for (const d of deps) expect(graph.has(d), d).toBe(true);
  });

  it('form no cycle (type-only imports included)', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('have no hub: no file is imported by every other file', () => {
    // (a pure type module such as context.ts, the CallContext interface, would be the one acceptable
    // exception; none is needed: the most imported file is imported by well under every other file)
    const importers = new Map<string, number>();
    for (const deps of graph.values()) for (const d of deps) importers.set(d, (importers.get(d) ?? 0) + 1);
    const hubs = [...importers].filter(([, n]) => n >= graph.size - 1).map(([f]) => f);
    expect(hubs).toEqual([]);
  });

  it('carry no inline import() type and no optional service on the CallContext', () => {
    for (const file of graph.keys()) expect(readFileSync(join(CALLS, file), 'utf8'), file).not.toMatch(/import\(\s*'/);
    const context = readFileSync(join(CALLS, 'context.ts'), 'utf8');
    expect(context).not.toMatch(/^\s+\w+\?:/m);
    expect(context).toMatch(/^\s+live: LiveCalls;/m);
  });
});

describe('runVerbs', () => {
  /** A host that records what the verbs asked of it. */
  function recorder(stopAfterPause = false): { host: VerbHost<string>; log: string[] } {
    const log: string[] = [];
    let stopped = false;
    const host: VerbHost<string> = {
      get stopped() { return stopped; },
      resolve: (url) => new URL(url, 'http://app.test/doc/').href,
      sleep: (ms) => { log.push(`sleep ${ms}`); if (stopAfterPause) stopped = true; return Promise.resolve(); },
      hangup: () => { log.push('hangup'); },
      reject: (reason) => { log.push(`reject ${reason}`); },
      redirect: (url, method) => `${method} ${url}`,
      dial: (opts) => { log.push(`dial ${opts.nouns.length}`); return Promise.resolve(opts.action ? { done: true, next: `action ${opts.action}` } : CONTINUE); },
    };
    return { host, log };
  }
  const pause: Verb = { kind: 'pause', length: 2 };
  const say: Verb = { kind: 'unsupported', name: 'Say' };

  it('runs verbs in order, skips unsupported ones, and a Redirect ends the document with the next one (resolved)', async () => {
    const { host, log } = recorder();
    const next = await runVerbs([pause, say, { kind: 'redirect', url: 'next', method: 'GET' }, { kind: 'hangup' }], host);
    expect(next).toBe('GET http://app.test/doc/next');
    expect(log).toEqual(['sleep 2000']);
  });

  it('<Hangup> and <Reject> end the document with nothing after; the verbs after them do not run', async () => {
    const a = recorder();
    expect(await runVerbs([{ kind: 'hangup' }, pause], a.host)).toBeUndefined();
    expect(a.log).toEqual(['hangup']);
    const b = recorder();
    expect(await runVerbs([{ kind: 'reject', reason: 'busy' }, pause], b.host)).toBeUndefined();
    expect(b.log).toEqual(['reject busy']);
  });

  it('a host that stops ends the document before its next verb', async () => {
    const { host, log } = recorder(true);
    expect(await runVerbs([pause, { kind: 'hangup' }], host)).toBeUndefined();
    expect(log).toEqual(['sleep 2000']);
  });

  it('the executors say CONTINUE and END with frozen outcomes', () => {
    expect(Object.isFrozen(CONTINUE) && Object.isFrozen(END)).toBe(true);
    expect(END).toEqual({ done: true, next: undefined });
  });
});

describe('documents on the verb runner (loop transport, fake clock)', () => {
  const rigs: Rig[] = [];
  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.close();
  });
  async function rig(...args: Parameters<typeof callRig>): Promise<Rig> {
    const r = await callRig(...args);
    rigs.push(r);
    return r;
  }
  const fetched = (r: Rig, path: string): boolean => r.webhooks.some((w) => w.path === path);

  it('the caller\'s document: <Pause> waits on the call\'s clock, <Say> is skipped, <Redirect> fetches the next, whose <Reject reason="busy"> answers 486', async () => {
    const r = await rig({
      '/voice': '<Response><Pause length="2"/><Say>hello</Say><Redirect>/next</Redirect><Hangup/></Response>',
      '/next': '<Response><Reject reason="busy"/></Response>',
    });
    const caller = r.call();
    await r.until(() => fetched(r, '/voice'), 'the voice URL is fetched');
    const pausedAt = r.clock.now();
    await r.until(() => r.clock.now() >= pausedAt + 1500, 'most of the pause');
    expect(fetched(r, '/next')).toBe(false);
    await r.until(() => caller.status !== 0, 'the caller gets a final response');
    expect(r.clock.now()).toBeGreaterThanOrEqual(pausedAt + 2000);
    expect(caller.status).toBe(486);
    expect(r.webhooks.filter((w) => w.path === '/next')).toHaveLength(1);
    await r.until(() => r.layer.size === 0 && r.registry.size === 0, 'nothing left live');
    const { parent } = records(r);
    expect(parent?.status).toBe('busy');
    await r.until(() => callbacks(r, parent!.sid).length > 0, 'the completed callback');
    expect(callbacks(r, parent!.sid)).toEqual(['busy']);
  });

  it('a screening document: <Pause> then <Hangup> declines the answered party (BYE); the Dial\'s action hears DialBridged=false', async () => {
    const r = await rig({
      '/voice': `<Response><Dial action="/after"><Sip url="/screen">sip:agent@127.0.0.1:${CALLEE_PORT}</Sip></Dial></Response>`,
      '/screen': '<Response><Pause length="1"/><Say>press 1</Say><Hangup/></Response>',
      '/after': '<Response><Hangup/></Response>',
    });
    const caller = r.call();
    await r.until(() => fetched(r, '/after'), 'the action is fetched');
    expect(r.calleeUa.byes).toBe(1);
    const after = r.webhooks.find((w) => w.path === '/after')!;
    expect(after.params.get('DialBridged')).toBe('false');
    expect(after.params.get('DialCallStatus')).toBe('completed');
    await r.until(() => r.layer.size === 0 && r.registry.size === 0, 'nothing left live');
    // answerOnBridge false: the caller was answered at once, and gets BYE at the end
    expect(caller.status).toBe(200);
    expect(caller.byes).toBe(1);
  });

  it('a REST-created call rings until its Timeout on the call layer\'s clock, then is cancelled: no-answer', async () => {
    const r = await rig({}, {}, { answer: false });
    const created = await r.layer.originate({ to: `sip:agent@127.0.0.1:${CALLEE_PORT}`, from: 'sip:patchbay@127.0.0.1', url: 'http://127.0.0.1:9/never', timeout: 3 });
    expect(created.ok).toBe(true);
    const sid = created.ok ? created.value.sid : '';
    await r.until(() => r.clock.now() >= 2500, 'most of the timeout');
    expect(r.calleeUa.cancels).toBe(0);
    await r.until(() => r.calleeUa.cancels === 1, 'the CANCEL');
    // the fake clock fired it (a timer on global time would come seconds of fake time later)
    expect(r.clock.now()).toBeGreaterThanOrEqual(3000);
    expect(r.clock.now()).toBeLessThan(3500);
    await r.until(() => r.store.get(sid)?.status === 'no-answer', 'the call ends no-answer');
    expect(sentTo(r, CALLEE_PORT).filter((l) => l.startsWith('CANCEL'))).toHaveLength(1);
    await r.until(() => r.layer.size === 0, 'nothing left live');
  });
});
