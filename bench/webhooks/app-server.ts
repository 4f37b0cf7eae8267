/**
 * The customer web app of the webhooks benchmark (node:http, keep-alive),
 * answering every request with the daemon bench's TwiML document, so the
 * measured client and the server do not share an event loop. Runs as a
 * worker thread (voice-request.bench.ts) or as a child process
 * (cpu-per-request.ts, so that the client's process CPU is the client's
 * alone). Posts its port once listening; closes on any message.
 */
import { createServer } from 'node:http';
import { parentPort } from 'node:worker_threads';

const body = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true"><Sip>sip:uas@127.0.0.1:5080</Sip></Dial></Response>');
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
const post = (port: number): void => {
  if (parentPort) parentPort.postMessage(port);
  else process.send!(port);
};
const close = (): void => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  post(typeof address === 'object' && address !== null ? address.port : 0);
});
if (parentPort) parentPort.once('message', close);
else {
  process.once('message', close);
  process.once('disconnect', close);
}
