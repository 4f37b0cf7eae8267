/**
 * Worker thread of the webhooks benchmark: a customer web app (node:http,
 * keep-alive) answering every request with the daemon bench's TwiML
 * document, so the measured client and the server do not share an event
 * loop. Posts its port once listening; closes on any message.
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
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  parentPort!.postMessage(typeof address === 'object' && address !== null ? address.port : 0);
});
parentPort!.once('message', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
