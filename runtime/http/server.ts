/**
 * The daemon's HTTP side on uWebSockets.js. For now the operational
 * endpoints: GET /healthz (alive), GET /readyz (503 while draining) and
 * GET /stats (live call, dialog and transaction counts as JSON).
 */
import { createRequire } from 'node:module';
import type { DaemonStats } from '../daemon.js';

const require = createRequire(import.meta.url);
// uWebSockets.js ships as a native CommonJS addon
const uws = require('uWebSockets.js') as typeof import('uWebSockets.js');

/** A listening HTTP server. */
export interface HttpServer {
  readonly port: number;
  close(): void;
}

/** Start the HTTP server on host:port (port 0 picks a free one). */
export function startHttp(host: string, port: number, stats: () => DaemonStats): Promise<HttpServer> {
  const app = uws.App();
  const json = (res: import('uWebSockets.js').HttpResponse, status: string, body: unknown): void => {
    res.cork(() => {
      res.writeStatus(status).writeHeader('Content-Type', 'application/json').end(JSON.stringify(body));
    });
  };
  app.get('/healthz', (res) => json(res, '200 OK', { status: 'ok' }));
  app.get('/readyz', (res) => {
    const s = stats();
    json(res, s.draining ? '503 Service Unavailable' : '200 OK', { ready: !s.draining });
  });
  app.get('/stats', (res) => json(res, '200 OK', stats()));
  app.any('/*', (res) => json(res, '404 Not Found', { code: 20404, message: 'The requested resource was not found', status: 404 }));
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (!socket) {
        reject(new Error(`cannot listen on http://${host}:${port}`));
        return;
      }
      resolve({ port: uws.us_socket_local_port(socket), close: () => uws.us_listen_socket_close(socket) });
    });
  });
}
