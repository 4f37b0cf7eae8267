import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../runtime/config.js';
import { createWebhookClient, type WebhookClient, type WebhookClientOptions } from '../../../runtime/webhooks/client.js';
import { WorkerTransport } from '../../../runtime/webhooks/worker-transport.js';
import { selfSignedPair } from '../../support/tls-cert.js';
import { expectValidSignature as checkSignature, formParams, startRecordingApp, twiml, type Recorded, type RecordingApp } from './recording-app.js';
import { compiledClientUrl, removeWebhookWorker, webhookWorkerUrl } from './webhook-worker.js';

const TOKEN = 'test-auth-token-0123456789abcdef';
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';

let app: RecordingApp;
let base: string;
let requests: Recorded[];
let workerUrl: URL;
let fakes: string;
const clients: WebhookClient[] = [];

beforeAll(async () => {
  workerUrl = webhookWorkerUrl();
  fakes = mkdtempSync(join(tmpdir(), 'patchbay-fake-webhook-worker-'));
  writeFileSync(join(fakes, 'package.json'), '{ "type": "module" }\n');
  // a worker that takes jobs and never answers (a stuck one), and one that dies on its first job
  writeFileSync(join(fakes, 'silent.js'), "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => {});\n");
  writeFileSync(join(fakes, 'crash.js'), "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => { throw new Error('boom'); });\n");
  app = await startRecordingApp();
  base = app.base;
  requests = app.requests;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  rmSync(fakes, { recursive: true, force: true });
  removeWebhookWorker();
  await app.close();
});

afterEach(() => {
  requests.length = 0;
});


/** A threaded client, closed after the file. */
function client(options: Partial<WebhookClientOptions> = {}, transport?: WorkerTransport): WebhookClient {
  const c = createWebhookClient({ accountSid: ACCOUNT, authToken: TOKEN, timeoutMs: 2000, retries: 1, thread: true, workerUrl, ...options }, transport);
  clients.push(c);
  return c;
}

/** A worker transport of its own, for tests that reach into the worker. */
function transport(options: { workerUrl?: URL; graceMs?: number; sweepMs?: number; batchMs?: number } = {}): WorkerTransport {
  return new WorkerTransport({ authToken: TOKEN, workerUrl, ...options });
}



function expectValidSignature(req: Recorded, origin = base): void {
  checkSignature(req, origin, TOKEN);
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('webhook client with thread: true', () => {
  it('POST: signed in the worker, accepted by twilio.validateRequest', async () => {
    app.handler = (_req, res) => twiml(res);
    const params = { CallSid: 'CA' + '0'.repeat(32), Body: 'héllo ☎ 😀 & = + %', Digits: ['9', '1', '5'] };
    const result = await client({ userAgent: 'pb-thread/1' }).request({ url: `${base}/voice?x=1#frag`, params });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value).toEqual({ status: 200, contentType: 'text/xml', body: '<Response><Say>hi</Say></Response>', url: `${base}/voice?x=1` });
    const req = requests[0]!;
    expect(req).toMatchObject({ method: 'POST', url: '/voice?x=1' });
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers['user-agent']).toBe('pb-thread/1');
    expect(formParams(req.body)).toEqual({ ...params, AccountSid: ACCOUNT });
    expectValidSignature(req);
  });

  it('requests made in one tick travel to the worker together and each gets its own answer', async () => {
    app.handler = (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(new URLSearchParams(req.body).get('CallSid') ?? '');
    };
    const c = client();
    const sids = Array.from({ length: 40 }, (_, i) => `CA${String(i).padStart(32, '0')}`);
    const results = await Promise.all(sids.map((CallSid) => c.request({ url: `${base}/voice`, params: { CallSid } })));
    expect(results.map((r) => (r.ok ? r.value.body : r.error.message))).toEqual(sids);
    expect(requests).toHaveLength(40);
    for (const req of requests) expectValidSignature(req);
  });

  it('a job waits batchMs for others, a job from a later turn of the loop joins it, each gets its answer; batchMs 0 sends at once', async () => {
    const arrivals: number[] = [];
    app.handler = (req, res) => {
      arrivals.push(performance.now());
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(new URLSearchParams(req.body).get('CallSid') ?? '');
    };
    const windowed = client({}, transport({ batchMs: 40 }));
    const started = performance.now();
    const first = windowed.request({ url: `${base}/voice`, params: { CallSid: 'CA1' } });
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = windowed.request({ url: `${base}/voice`, params: { CallSid: 'CA2' } });
    const answers = await Promise.all([first, second]);
    expect(answers.map((r) => (r.ok ? r.value.body : r.error.message))).toEqual(['CA1', 'CA2']);
    expect(arrivals).toHaveLength(2);
    expect(Math.min(...arrivals) - started, 'the first job waited for the window').toBeGreaterThanOrEqual(35);
    const immediate = client({}, transport({ batchMs: 0 }));
    const again = await Promise.all(['CA3', 'CA4'].map((CallSid) => immediate.request({ url: `${base}/voice`, params: { CallSid } })));
    expect(again.map((r) => (r.ok ? r.value.body : r.error.message))).toEqual(['CA3', 'CA4']);
  });

  it('GET: parameters in the query, signed with it', async () => {
    app.handler = (_req, res) => twiml(res);
    const result = await client().request({ url: `${base}/voice?foo=a%20b`, method: 'GET', params: { CallStatus: 'ringing' } });
    expect(result.ok).toBe(true);
    const req = requests[0]!;
    expect(req).toMatchObject({ method: 'GET', body: '' });
    expect(formParams(req.url.slice(req.url.indexOf('?') + 1))).toEqual({ foo: 'a b', CallStatus: 'ringing', AccountSid: ACCOUNT });
    expectValidSignature(req);
  });

  it('retries a 500, then succeeds; both attempts signed', async () => {
    let calls = 0;
    app.handler = (_req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(500);
        res.end();
      } else twiml(res);
    };
    const result = await client({ retries: 1 }).request({ url: `${base}/flaky`, params: { x: 'y' } });
    expect(result.ok).toBe(true);
    expect(requests).toHaveLength(2);
    for (const req of requests) expectValidSignature(req);
  });

  it('times out with 11203 (the deadline is kept in the worker)', async () => {
    app.handler = () => undefined;
    const started = Date.now();
    const result = await client({ timeoutMs: 200 }).request({ url: `${base}/slow` });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_TIMEOUT', twilioCode: 11203 });
      expect(result.error.message).toContain('200 ms');
    }
  });

  it('connection refused → 11205', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const result = await client({ retries: 2 }).request({ url: `http://127.0.0.1:${port}/` });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_CONNECTION', twilioCode: 11205 });
      expect(result.error.message).toContain('ECONNREFUSED');
    }
  });

  it('a body over the limit → 11750', async () => {
    app.handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.end('x'.repeat(2048));
    };
    const result = await client({ maxBodyBytes: 1024 }).request({ url: `${base}/big` });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_BODY_TOO_LARGE', twilioCode: 11750, limitBytes: 1024 });
  });

  it('https with a CA given as a Buffer (sent to the worker once)', async () => {
    const pair = selfSignedPair();
    const secure = createHttpsServer({ cert: pair.cert, key: pair.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        twiml(res);
      });
    });
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `https://localhost:${(secure.address() as AddressInfo).port}`;
      const result = await client({ tls: { ca: Buffer.from(pair.cert) } }).request({ url: `${origin}/voice`, params: { CallSid: 'CA1' } });
      expect(result.ok).toBe(true);
      expectValidSignature(requests[0]!, origin);
      const untrusted = await client({ retries: 0 }).request({ url: `${origin}/voice` });
      expect(untrusted.ok).toBe(false);
      if (!untrusted.ok) expect(untrusted.error).toMatchObject({ twilioCode: 11205 });
    } finally {
      secure.closeAllConnections();
      await new Promise<void>((resolve) => secure.close(() => resolve()));
    }
  });

  it('a missing worker module is refused when the client is created', () => {
    expect(() => createWebhookClient({ accountSid: ACCOUNT, authToken: TOKEN, thread: true, workerUrl: '/nonexistent/worker-main.js' })).toThrow(/not found/);
  });
});

describe('worker failures', () => {
  it('a worker killed mid-request fails it with 11205; the next request runs on a new worker', async () => {
    app.handler = (req, res) => {
      if (req.url !== '/hang') twiml(res);
    };
    const t = transport();
    const webhooks = client({ retries: 0 }, t);
    expect((await webhooks.request({ url: `${base}/first` })).ok).toBe(true);
    const first = t.threadId;
    expect(first).toBeDefined();
    const pending = webhooks.request({ url: `${base}/hang` });
    await until(() => requests.some((r) => r.url === '/hang'));
    expect(t.pending).toBe(1);
    await t.terminateWorker();
    const failed = await pending;
    expect(failed.ok).toBe(false);
    if (!failed.ok) {
      expect(failed.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_CONNECTION', twilioCode: 11205 });
      expect(failed.error.message).toContain('ERR_WEBHOOK_WORKER');
    }
    expect(t.pending).toBe(0);
    expect(t.threadId).toBeUndefined();
    const next = await webhooks.request({ url: `${base}/next` });
    expect(next.ok).toBe(true);
    expect(t.threadId).toBeDefined();
    expect(t.threadId).not.toBe(first);
  });

  it('with a retry, a request whose worker died is sent again on a new worker and succeeds', async () => {
    let hung = false;
    app.handler = (req, res) => {
      if (!hung) hung = true;
      else twiml(res);
    };
    const t = transport();
    const pending = client({ retries: 1 }, t).request({ url: `${base}/voice` });
    await until(() => requests.length === 1);
    await t.terminateWorker();
    const result = await pending;
    expect(result.ok).toBe(true);
    expect(requests).toHaveLength(2);
  });

  it('a worker that crashes fails the pending request with 11205, then is replaced', async () => {
    const t = transport({ workerUrl: pathToFileURL(join(fakes, 'crash.js')) });
    const webhooks = client({ retries: 1 }, t);
    const result = await webhooks.request({ url: `${base}/voice` });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatchObject({ twilioCode: 11205 });
      expect(result.error.message).toContain('ERR_WEBHOOK_WORKER');
    }
    expect(t.pending).toBe(0);
  });

  it('a stuck worker: the main thread gives up after timeoutMs + grace (11203) and replaces it', async () => {
    const t = transport({ workerUrl: pathToFileURL(join(fakes, 'silent.js')), graceMs: 100, sweepMs: 50 });
    const webhooks = client({ timeoutMs: 100, retries: 0 }, t);
    const started = Date.now();
    const result = await webhooks.request({ url: `${base}/voice` });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_TIMEOUT', twilioCode: 11203 });
    expect(t.pending).toBe(0);
    expect(t.threadId).toBeUndefined();
  });

  it('close() fails pending requests (11205) and every later one, without a new worker', async () => {
    app.handler = () => undefined;
    const t = transport();
    const webhooks = client({ retries: 1 }, t);
    const pending = webhooks.request({ url: `${base}/hang` });
    await until(() => requests.length === 1);
    await webhooks.close();
    const failed = await pending;
    expect(failed.ok).toBe(false);
    if (!failed.ok) expect(failed.error).toMatchObject({ twilioCode: 11205 });
    const later = await webhooks.request({ url: `${base}/voice` });
    expect(later.ok).toBe(false);
    if (!later.ok) expect(later.error).toMatchObject({ twilioCode: 11205 });
    expect(t.threadId).toBeUndefined();
    expect(requests).toHaveLength(1);
  });
});

/** Run an ES module script in a fresh node process; @return its exit code and output. */
function runScript(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // a file, not `--input-type=module -e`: worker threads inherit execArgv, and refuse --input-type
  const file = join(fakes, `script-${Date.now()}-${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(file, script);
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { timeout: 10_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : null), stdout, stderr });
    });
  });
}

describe('the worker and the life of the process', () => {
  it('keeps the process alive while a request is pending, not once it is idle', async () => {
    app.handler = (_req, res) => {
      setTimeout(() => twiml(res), 300);
    };
    const script = `
      import { createWebhookClient } from ${JSON.stringify(compiledClientUrl().href)};
      const client = createWebhookClient({ accountSid: ${JSON.stringify(ACCOUNT)}, authToken: 't', thread: true });
      client.request({ url: ${JSON.stringify(`${base}/slow`)} }).then((r) => console.log('status', r.ok ? r.value.status : r.error.twilioCode));
    `;
    const started = Date.now();
    const run = await runScript(script);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('status 200');
    expect(run.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('close() with a request pending: it fails and the process exits', async () => {
    app.handler = () => undefined;
    const script = `
      import { createWebhookClient } from ${JSON.stringify(compiledClientUrl().href)};
      const client = createWebhookClient({ accountSid: ${JSON.stringify(ACCOUNT)}, authToken: 't', thread: true, timeoutMs: 60000 });
      const pending = client.request({ url: ${JSON.stringify(`${base}/hang`)} });
      setTimeout(() => { void client.close(); }, 300);
      const r = await pending;
      console.log('code', r.ok ? r.value.status : r.error.twilioCode);
    `;
    const run = await runScript(script);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('code 11205');
    expect(run.code).toBe(0);
  });
});

describe('--webhook-thread', () => {
  it('is on by default; off by flag, environment or config file key', () => {
    expect(loadConfig([], {}).twiml.webhookThread).toBe(true);
    expect(loadConfig(['--webhook-thread', 'off'], {}).twiml.webhookThread).toBe(false);
    expect(loadConfig(['--webhook-thread=on'], { PATCHBAY_WEBHOOK_THREAD: 'off' }).twiml.webhookThread).toBe(true);
    expect(loadConfig([], { PATCHBAY_WEBHOOK_THREAD: 'false' }).twiml.webhookThread).toBe(false);
    const file = join(fakes, 'config.json');
    writeFileSync(file, JSON.stringify({ twiml: { webhookThread: false } }));
    expect(loadConfig(['--config', file], {}).twiml.webhookThread).toBe(false);
  });

  it('refuses anything but on/off', () => {
    expect(() => loadConfig(['--webhook-thread', 'maybe'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--webhook-thread', 'maybe'], {})).toThrow(/--webhook-thread: expected on or off/);
    // --pool reads its value the same way (it used to take anything but on/true/1 as off)
    expect(() => loadConfig(['--pool', 'maybe'], {})).toThrow(/--pool: expected on or off/);
    expect(loadConfig(['--pool', 'true'], {}).parser.pool).toBe(true);
  });
});
