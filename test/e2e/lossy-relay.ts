/**
 * A UDP relay on loopback that loses datagrams on purpose: it forwards what
 * it receives to a target (and the target's datagrams back to the sender)
 * and drops the first `dropFirst` INVITEs, so the sender's retransmission (RFC 3261 §17.1.1.2, Timer A) must recover.
 */
import { createSocket } from 'node:dgram';

/** A running relay. */
export interface LossyRelay {
  /** Datagrams dropped so far. */
  readonly dropped: number;
  /** Datagrams forwarded so far. */
  readonly forwarded: number;
  close(): void;
}

/** Relay 127.0.0.1:listenPort → 127.0.0.1:targetPort, dropping the first `dropFirst` INVITEs. */
export function startLossyRelay(listenPort: number, targetPort: number, dropFirst: number): Promise<LossyRelay> {
  const socket = createSocket('udp4');
  let dropped = 0;
  let forwarded = 0;
  let client: { port: number; address: string } | undefined;
  socket.on('message', (msg, rinfo) => {
    forwarded++;
    if (rinfo.port === targetPort) {
      // the target answers the relay: back to whoever sent the requests
      if (client) socket.send(msg, client.port, client.address);
      return;
    }
    client = { port: rinfo.port, address: rinfo.address };
    if (dropped < dropFirst && msg.subarray(0, 7).toString('latin1') === 'INVITE ') {
      dropped++;
      forwarded--;
      return;
    }
    socket.send(msg, targetPort, '127.0.0.1');
  });
  return new Promise((resolve) => {
    socket.bind(listenPort, '127.0.0.1', () => resolve({
      get dropped() { return dropped; },
      get forwarded() { return forwarded; },
      close: () => socket.close(),
    }));
  });
}
