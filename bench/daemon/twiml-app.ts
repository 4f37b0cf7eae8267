/**
 * The TwiML application of the daemon bench's TwiML mode: a tiny HTTP server that answers every
 * request (POST or GET) with the same document, dialling the bench's SIPp UAS:
 *
 *   <Response><Dial answerOnBridge="true"><Sip>sip:uas@127.0.0.1:UAS</Sip></Dial></Response>
 *
 * Run as its own process (`node dist/bench/daemon/twiml-app.js PORT UAS_PORT`) so its CPU is
 * measured apart from the daemon's. It reads the whole form body before it answers (signatures are
 * not checked: the bench measures the daemon, the e2e tests check signatures), keeps connections
 * alive, prints `listening` once bound and the number of requests it answered on SIGTERM.
 *
 * It is served by uWebSockets.js rather than node:http because it shares this 2-vCPU machine with
 * the daemon and two SIPp processes: node:http spent about 120 µs of CPU per request (12 % of a
 * core at 1,000 calls/s), CPU taken from the process under test. A customer's app would run on
 * other machines; the leaner server keeps the rig's own cost out of the daemon's measurement.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const uws = require('uWebSockets.js') as typeof import('uWebSockets.js');

/** The document every request gets. */
function benchTwiml(uasPort: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true"><Sip>sip:uas@127.0.0.1:${uasPort}</Sip></Dial></Response>`;
}

function main(argv: string[]): void {
  const port = Number(argv[0]);
  const uasPort = Number(argv[1]);
  if (!Number.isInteger(port) || !Number.isInteger(uasPort)) throw new Error('usage: twiml-app.js PORT UAS_PORT');
  const body = benchTwiml(uasPort);
  let answered = 0;
  const app = uws.App().any('/*', (res) => {
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    res.onData((_chunk, isLast) => {
      if (!isLast || aborted) return;
      answered++;
      res.cork(() => {
        res.writeStatus('200 OK').writeHeader('Content-Type', 'text/xml').end(body);
      });
    });
  });
  app.listen('127.0.0.1', port, (socket) => {
    if (!socket) {
      process.stderr.write(`cannot listen on 127.0.0.1:${port}\n`);
      process.exit(1);
    }
    process.stdout.write('listening\n');
    process.on('SIGTERM', () => {
      process.stdout.write(`answered ${answered}\n`);
      uws.us_listen_socket_close(socket);
      process.exit(0);
    });
  });
}

main(process.argv.slice(2));
