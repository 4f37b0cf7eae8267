/**
 * The TwiML application of the daemon bench's TwiML mode: a tiny Node HTTP server that answers
 * every request (POST or GET) with the same document, dialling the bench's SIPp UAS:
 *
 *   <Response><Dial answerOnBridge="true"><Sip>sip:uas@127.0.0.1:UAS</Sip></Dial></Response>
 *
 * Run as its own process (`node dist/bench/daemon/twiml-app.js PORT UAS_PORT`) so its CPU is
 * measured apart from the daemon's. It reads and discards the form body (signatures are not
 * checked: the bench measures the daemon, the e2e tests check signatures), keeps connections alive,
 * prints `listening` once bound and the number of requests it answered on SIGTERM.
 */
import { createServer } from 'node:http';

/** The document every request gets. */
function benchTwiml(uasPort: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true"><Sip>sip:uas@127.0.0.1:${uasPort}</Sip></Dial></Response>`;
}

function main(argv: string[]): void {
  const port = Number(argv[0]);
  const uasPort = Number(argv[1]);
  if (!Number.isInteger(port) || !Number.isInteger(uasPort)) throw new Error('usage: twiml-app.js PORT UAS_PORT');
  const body = Buffer.from(benchTwiml(uasPort));
  let answered = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      answered++;
      res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
  process.on('SIGTERM', () => {
    process.stdout.write(`answered ${answered}\n`);
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main(process.argv.slice(2));
