/**
 * Command-line options of `npm run fuzz:daemon -- [options]`.
 */

/** Everything the network fuzzer can be told. */
export interface FuzzOptions {
  /** Fuzz messages to send (UDP datagrams and TCP messages together); 0 when `seconds` bounds the run. */
  count: number;
  /** Seconds to fuzz for; 0 when `count` bounds the run. */
  seconds: number;
  /** PRNG seed: the same seed sends the same message sequence. */
  seed: number;
  /** Fuzz messages per second. */
  rate: number;
  /** Legitimate SIPp calls per second placed while fuzzing. */
  callRate: number;
  /** Share of fuzz messages sent over TCP (the rest are UDP datagrams). */
  tcpShare: number;
  /** Longest wait for /stats to return to zero after the run, in seconds. */
  settleSeconds: number;
  /** Largest RSS growth accepted (after settling vs. before fuzzing), as a fraction. */
  rssGrowth: number;
  /** Run everything in a fresh network namespace (default: when root). */
  netns: boolean;
  /** First loopback port (SIP, HTTP, SIPp UAS, SIPp UAC follow). */
  portBase: number;
  /** Print the verdict as one JSON line too (for the e2e test). */
  json: boolean;
  /** Write the daemon's log (warn and above, the last 4 MB) to this file at the end. */
  daemonLog?: string;
  /** Extra daemon arguments, e.g. --pool on. */
  daemonArgs: string[];
}

/** Help text. */
export const USAGE = `usage: npm run fuzz:daemon -- [--count N | --seconds S] [options]
Starts Patchbay (static route to a SIPp UAS) and sends it mutated UDP datagrams and TCP streams
while SIPp places legitimate calls; then checks that the daemon is alive, every call succeeded,
/stats is back to zero live calls, dialogs and transactions, and RSS grew less than --rss-growth.
Exits 1 on failure; the verdict names the seed, which replays the same fuzz message sequence.
  --count N            fuzz messages to send (default 3000 when --seconds is not given)
  --seconds S          fuzz for S seconds instead
  --seed N             PRNG seed (default: random, printed)
  --rate N             fuzz messages per second (default 500)
  --call-rate N        legitimate calls per second (default 10)
  --tcp-share F        share of fuzz messages sent over TCP, 0-1 (default 0.3)
  --settle-seconds S   longest wait for /stats to return to zero (default 40)
  --rss-growth F       largest RSS growth accepted after settling (default 0.2)
  --netns on|off       run in a fresh network namespace with only loopback (default on as root):
                       mutated addresses then cannot reach other hosts or the resolver
  --port-base N        first loopback port (default 27000; ports N..N+4, N+4 the daemon's inspector, for a full GC before each RSS reading)
  --daemon-arg A       pass A to patchbay serve (repeatable), e.g. --daemon-arg --pool --daemon-arg on
  --daemon-log FILE    write the daemon's log lines (warn and above) to FILE at the end
  --json               also print the verdict as one JSON line`;

function number(flag: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${flag} needs a number from ${min} to ${max}, got ${String(value)}`);
  }
  return n;
}

/**
 * Parses the arguments.
 * @param argv - arguments after the script name
 * @returns the options, defaults filled in
 */
export function parseOptions(argv: readonly string[]): FuzzOptions {
  const options: FuzzOptions = {
    count: 0, seconds: 0, seed: Math.floor(Math.random() * 0x7fffffff), rate: 500, callRate: 10, tcpShare: 0.3,
    settleSeconds: 40, rssGrowth: 0.2, netns: process.getuid?.() === 0, portBase: 27000, json: false, daemonArgs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case '--count': options.count = Math.floor(number(flag, value(), 1, 10_000_000)); break;
      case '--seconds': options.seconds = number(flag, value(), 1, 86_400); break;
      case '--seed': options.seed = Math.floor(number(flag, value(), 0, 0xffffffff)); break;
      case '--rate': options.rate = number(flag, value(), 1, 100_000); break;
      case '--call-rate': options.callRate = number(flag, value(), 1, 1000); break;
      case '--tcp-share': options.tcpShare = number(flag, value(), 0, 1); break;
      case '--settle-seconds': options.settleSeconds = number(flag, value(), 1, 3600); break;
      case '--rss-growth': options.rssGrowth = number(flag, value(), 0, 100); break;
      case '--port-base': options.portBase = Math.floor(number(flag, value(), 1024, 65_000)); break;
      case '--json': options.json = true; break;
      case '--daemon-log': {
        options.daemonLog = value();
        if (options.daemonLog === undefined) throw new Error('--daemon-log needs a file');
        break;
      }
      case '--daemon-arg': {
        const arg = value();
        if (arg === undefined) throw new Error('--daemon-arg needs a value');
        options.daemonArgs.push(arg);
        break;
      }
      case '--netns': {
        const v = value();
        if (v !== 'on' && v !== 'off') throw new Error(`--netns on|off, got ${String(v)}`);
        options.netns = v === 'on';
        break;
      }
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  if (options.count > 0 && options.seconds > 0) throw new Error('--count and --seconds exclude each other');
  if (options.count === 0 && options.seconds === 0) options.count = 3000;
  return options;
}
