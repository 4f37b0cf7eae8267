/**
 * A full garbage collection in the daemon under test, through the V8 inspector it was started
 * with (`--inspect=127.0.0.1:PORT`, loopback only): RSS read right after settling otherwise counts
 * whatever garbage V8 has not collected yet (tens of MB after a burst of large messages), so two
 * readings would compare GC timing, not memory kept.
 */
import WebSocket from 'ws';

/**
 * Asks the inspector on `port` for a full GC (HeapProfiler.collectGarbage) and waits for it.
 * @param port - the daemon's --inspect port
 */
export async function collectGarbage(port: number): Promise<void> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(10_000) })).json()) as Array<{ webSocketDebuggerUrl?: string }>;
  const url = targets[0]?.webSocketDebuggerUrl;
  if (url === undefined) throw new Error(`no inspector target on port ${port}`);
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    for (let id = 1; id <= 2; id++) {
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the inspector did not answer collectGarbage')), 30_000);
        ws.on('message', (data) => {
          if ((JSON.parse(String(data)) as { id?: number }).id === id) { clearTimeout(timer); resolve(); }
        });
      });
      ws.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }));
      await done;
    }
  } finally {
    ws.close();
  }
}
