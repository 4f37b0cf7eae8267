/**
 * CPU per webhook request, side by side in one run:
 * `npx tsc -p tsconfig.build.json && node dist/bench/webhooks/cpu-per-request.js [requests] [rounds]`.
 *
 * The app (app-server.ts) runs in a child process, so this process's CPU
 * (process.cpuUsage: user + system, every thread) is the client's alone.
 * Each round runs every client of clients.ts in turn, `requests` requests
 * one at a time after a warm-up, in a rotated order (so none always runs
 * first); each client's median round is printed: requests/s (wall) and CPU
 * µs per request. Defaults: 4000 requests, 3 rounds.
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { webhookClients } from './clients.js';

function positive(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got "${text}"`);
  return n;
}

async function main(): Promise<void> {
  const requests = positive(process.argv[2], 4000, 'requests');
  const rounds = positive(process.argv[3], 3, 'rounds');
  const app = fork(fileURLToPath(new URL('./app-server.js', import.meta.url)), [], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve, reject) => {
    app.once('message', (m) => resolve(m as number));
    app.once('error', reject);
    app.once('exit', (code) => reject(new Error(`app exited (${code})`)));
  });
  const clients = webhookClients(port);
  const results = clients.map(() => [] as Array<{ perSecond: number; cpuUs: number }>);
  try {
    for (const c of clients) {
      for (let i = 0; i < 500; i++) {
        const body = await c.request();
        if (!body.includes('<Dial')) throw new Error(`${c.name}: unexpected answer: ${body}`);
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < clients.length; k++) {
        const index = (k + round) % clients.length;
        const c = clients[index]!;
        for (let i = 0; i < 200; i++) await c.request();
        const cpu0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < requests; i++) await c.request();
        const ns = Number(process.hrtime.bigint() - t0);
        const cpu = process.cpuUsage(cpu0);
        results[index]!.push({ perSecond: requests / (ns / 1e9), cpuUs: (cpu.user + cpu.system) / requests });
      }
    }
  } finally {
    for (const c of clients) await c.close();
    app.send('close');
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`node ${process.version} · ${requests} requests × ${rounds} rounds · load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('| client | requests/s | CPU µs / request | rounds (CPU µs) |');
  console.log('| --- | --- | --- | --- |');
  clients.forEach((c, i) => {
    const r = results[i]!;
    console.log(`| ${c.name} | ${Math.round(median(r.map((x) => x.perSecond))).toLocaleString('en-US')} | ${median(r.map((x) => x.cpuUs)).toFixed(1)} | ${r.map((x) => x.cpuUs.toFixed(1)).join(', ')} |`);
  });
}

await main();
