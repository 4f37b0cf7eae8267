/**
 * Daemon configuration: embedded defaults, overridden by a JSON config file,
 * then PATCHBAY_* environment variables, then command-line flags. Every
 * option has all three spellings; `patchbay serve --help` prints the table.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, JSON_SHAPES as J, applyFile, renamed, type KeyedOption } from './config-schema.js';
import { isIP } from 'node:net';

export { ConfigError } from './config-schema.js';

/** An rtpengine NG address. */
export interface NgAddress {
  host: string;
  port: number;
}

/**
 * Parses `udp:HOST:PORT[,udp:HOST:PORT…]` (IPv6 as `[addr]`): the value of `--rtpengine`.
 * Throws ConfigError naming the bad entry.
 */
export function parseRtpengineTargets(spec: string): NgAddress[] {
  const entries = spec.split(',').map((e) => e.trim());
  if (entries.length === 0 || entries.some((e) => e === '')) throw new ConfigError(`--rtpengine: empty entry in "${spec}" (expected udp:HOST:PORT[,…])`);
  return entries.map((entry) => {
    const m = /^udp:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(entry);
    if (m === null) throw new ConfigError(`--rtpengine: "${entry}" is not udp:HOST:PORT (only UDP NG is supported; IPv6 as [addr])`);
    const host = m[1] ?? m[2] ?? '';
    const port = Number(m[3]);
    if (isIP(host) === 0) throw new ConfigError(`--rtpengine: "${host}" in "${entry}" is not an IP address`);
    if (port < 1 || port > 65535) throw new ConfigError(`--rtpengine: port ${port} in "${entry}" is out of range`);
    return { host, port };
  });
}

/** One SIP listener. */
export interface ListenConfig {
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
}

/** Everything the daemon reads. */
export interface Config {
  sip: {
    listen: ListenConfig[];
    /** TLS certificate and key (PEM files), needed when a tls listener is configured. */
    tlsCert?: string;
    tlsKey?: string;
    /** PEM CA bundle trusted for outbound TLS (default: Node's bundled roots). */
    tlsCa?: string;
    /** RFC 3261 §17 timer base values in ms. */
    t1: number;
    t2: number;
    t4: number;
    /** Timer D in ms (RFC 3261 §17.1.1.2: at least 32 s over UDP; lower only for tests). */
    timerD: number;
    /** UDP socket buffers to request, bytes (0 = OS default; Linux caps them at net.core.rmem_max/wmem_max). */
    udpRecvBuffer: number;
    udpSendBuffer: number;
    /** TCP and TLS: most inbound connections, in total and from one source address. */
    tcpMaxConnections: number;
    tcpMaxConnectionsPerSource: number;
    /** TCP and TLS: seconds a message may take from its first byte to its last (and a TLS handshake). */
    tcpMessageTimeoutSeconds: number;
    /** TCP and TLS: seconds a connection may go without a complete message either way. */
    tcpIdleTimeoutSeconds: number;
  };
  http: { host: string; port: number };
  /** Static route: every inbound call is bridged to this SIP URI (until TwiML routing is configured). */
  route?: string;
  /** Digest credentials Patchbay answers the static route's 401/407 with. */
  routeAuth?: { username: string; password: string };
  auth: {
    realm: string;
    /** CIDR allow list; requests from these addresses are admitted without credentials. */
    allow: string[];
    /** username:password pairs; when set, other addresses must authenticate (digest). */
    credentials: Array<{ username: string; password: string }>;
    /** Digest algorithms offered in challenges, most preferred first (RFC 8760). */
    algorithms: Array<'SHA-256' | 'MD5'>;
    /** New requests allowed per source per rate-limit window (Kamailio pike's density); 0 = no rate limit. */
    rateLimit: number;
    /** The rate limit's sampling interval, seconds. */
    rateLimitWindowSeconds: number;
    /** Seconds a source over the rate limit stays blocked (renewed while it keeps flooding). */
    rateLimitBlockSeconds: number;
    /** CIDR blocks never rate-limited. */
    rateLimitExempt: string[];
    /** Most sources the rate limiter and the failed-login lockout track (each). */
    maxTrackedSources: number;
    /** Failed digest attempts per window that lock out a source or user; 0 = no lockout. */
    lockoutFailures: number;
    /** The window failed attempts are counted in, seconds. */
    lockoutWindowSeconds: number;
    /** Seconds a locked source or user is refused (503 with Retry-After), even with the right password. */
    lockoutSeconds: number;
  };
  parser: { maxMessageBytes: number; maxHeaders: number; maxLineBytes: number; pool: boolean; poolThreads: number };
  /** Seconds established calls may continue after SIGTERM before they get BYE. */
  drainGraceSeconds: number;
  /** Ring time (s) for the static route before CANCEL. */
  ringTimeoutSeconds: number;
  log: { level: 'debug' | 'info' | 'warn' | 'error' };
  /** TwiML call control (https://www.twilio.com/docs/voice/twiml). Without voiceUrl inbound calls take the static route. */
  twiml: TwimlConfig;
  /** Completed-call records (JSON lines); no directory = none kept. */
  cdr: { dir?: string; maxBytes: number; keep: number };
  /** Media through rtpengine (issue 16): off = signalling only; no rtpengine list = an embedded one. */
  media: { enabled: boolean; rtpengine?: NgAddress[] };
}

/** One egress profile: where calls for a `region` leave from. */
export interface EgressProfile {
  /** Outbound proxy SIP URI (a loose Route is added), e.g. `sip:proxy.example.com:5060;transport=udp`. */
  proxy?: string;
  /** Local address calls leave from (a --listen address). */
  source?: string;
}

/** The TwiML side of the configuration. */
export interface TwimlConfig {
  /** AccountSid (AC + 32 hex) the webhooks and REST API use. */
  accountSid: string;
  /** Auth token: signs webhooks (X-Twilio-Signature) and is the REST API password. */
  authToken: string;
  /** TwiML application for inbound calls. */
  voiceUrl?: string;
  voiceMethod: 'GET' | 'POST';
  /** Fetched when voiceUrl fails (HTTP error or invalid TwiML). */
  fallbackUrl?: string;
  fallbackMethod: 'GET' | 'POST';
  /** Status callback of inbound (parent) calls: completed only. */
  statusCallback?: string;
  statusCallbackMethod: 'GET' | 'POST';
  /** SIP URI template for `<Number>`: `{number}` is replaced, e.g. `sip:{number}@carrier.example.com`. */
  numberRoute?: string;
  /** SIP URI template for `<Client>`: `{client}` is replaced. */
  clientRoute?: string;
  /** Egress profiles by region (us1 is the default region). */
  egress: Record<string, EgressProfile>;
  /** Seconds a webhook may take (default 15). */
  webhookTimeoutSeconds: number;
  /** Sign and send webhooks from a worker thread, off the main thread (default true). */
  webhookThread: boolean;
  /** SipDomainSid reported to the application. */
  sipDomainSid: string;
}

/** The embedded defaults: SIP UDP+TCP on 127.0.0.1:5060, HTTP on 127.0.0.1:8080, loopback allowed. */
export function defaultConfig(): Config {
  return {
    sip: {
      listen: [
        { transport: 'udp', host: '127.0.0.1', port: 5060 },
        { transport: 'tcp', host: '127.0.0.1', port: 5060 },
      ],
      t1: 500,
      t2: 4000,
      t4: 5000,
      timerD: 32000,
      udpRecvBuffer: 4 * 1024 * 1024,
      udpSendBuffer: 4 * 1024 * 1024,
      tcpMaxConnections: 4096,
      tcpMaxConnectionsPerSource: 128,
      tcpMessageTimeoutSeconds: 20,
      tcpIdleTimeoutSeconds: 180,
    },
    http: { host: '127.0.0.1', port: 8080 },
    auth: {
      realm: 'patchbay', allow: ['127.0.0.0/8', '::1/128'], credentials: [], algorithms: ['SHA-256', 'MD5'],
      rateLimit: 1000, rateLimitWindowSeconds: 2, rateLimitBlockSeconds: 60, rateLimitExempt: ['127.0.0.0/8', '::1/128'],
      maxTrackedSources: 16384, lockoutFailures: 10, lockoutWindowSeconds: 60, lockoutSeconds: 60,
    },
    parser: { maxMessageBytes: 65535, maxHeaders: 256, maxLineBytes: 8192, pool: false, poolThreads: 1 },
    drainGraceSeconds: 30,
    ringTimeoutSeconds: 60,
    log: { level: 'info' },
    cdr: { maxBytes: 64 * 1024 * 1024, keep: 10 },
    media: { enabled: true },
    twiml: {
      accountSid: 'AC00000000000000000000000000000000',
      authToken: '',
      voiceMethod: 'POST',
      fallbackMethod: 'POST',
      statusCallbackMethod: 'POST',
      egress: {},
      webhookTimeoutSeconds: 15,
      webhookThread: true,
      sipDomainSid: 'SD00000000000000000000000000000000',
    },
  };
}

/** One option: its flag, variable and config-file key (runtime/config-schema.ts reads the file). */
interface OptionSpec extends KeyedOption {
  help: string;
}

function int(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name}: expected an integer ${min}..${max}, got "${value}"`);
  return n;
}

function onOff(name: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'on' || v === 'true' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === '0') return false;
  throw new ConfigError(`${name}: expected on or off, got "${value}"`);
}

function httpUrl(name: string, value: string): string {
  let u: URL;
  try { u = new URL(value); } catch { throw new ConfigError(`${name}: expected an absolute http(s) URL, got "${value}"`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`${name}: expected an http or https URL, got "${value}"`);
  return value;
}

function method(name: string, value: string): 'GET' | 'POST' {
  const m = value.toUpperCase();
  if (m !== 'GET' && m !== 'POST') throw new ConfigError(`${name}: expected GET or POST, got "${value}"`);
  return m;
}

function template(name: string, value: string, placeholder: string): string {
  if (!/^sips?:/i.test(value) || !value.includes(placeholder)) throw new ConfigError(`${name}: expected a sip: URI containing ${placeholder}, got "${value}"`);
  return value;
}

/** "udp:127.0.0.1:5060,tcp:[::1]:5060" → listeners. */
export function parseListen(value: string): ListenConfig[] {
  return value.split(',').filter(Boolean).map((item) => {
    const m = /^(udp|tcp|tls):(\[[^\]]+\]|[^:]+):(\d+)$/.exec(item.trim());
    if (!m) throw new ConfigError(`--listen: expected transport:host:port (e.g. udp:127.0.0.1:5060), got "${item}"`);
    const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
    return { transport: m[1] as ListenConfig['transport'], host, port: int('--listen port', m[3]!, 0, 65535) };
  });
}

/** The options, in --help order. */
export const OPTIONS: OptionSpec[] = [
  { flag: '--listen', env: 'PATCHBAY_LISTEN', key: 'sip.listen', json: J.listeners, help: 'SIP listeners, comma-separated transport:host:port (default udp:127.0.0.1:5060,tcp:127.0.0.1:5060)', apply: (c, v) => { c.sip.listen = parseListen(v); } },
  { flag: '--tls-cert', env: 'PATCHBAY_TLS_CERT', key: 'sip.tlsCert', help: 'PEM certificate for tls listeners', apply: (c, v) => { c.sip.tlsCert = v; } },
  { flag: '--tls-key', env: 'PATCHBAY_TLS_KEY', key: 'sip.tlsKey', help: 'PEM private key for tls listeners', apply: (c, v) => { c.sip.tlsKey = v; } },
  { flag: '--tls-ca', env: 'PATCHBAY_TLS_CA', key: 'sip.tlsCa', help: 'PEM CA bundle trusted when calling out over TLS (default: the system roots)', apply: (c, v) => { c.sip.tlsCa = v; } },
  { flag: '--http', env: 'PATCHBAY_HTTP', key: 'http', json: J.hostPort, help: 'HTTP API host:port (default 127.0.0.1:8080)', apply: (c, v) => {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(v);
    if (!m) throw new ConfigError(`--http: expected host:port, got "${v}"`);
    c.http = { host: m[1]!.replace(/^\[|\]$/g, ''), port: int('--http port', m[2]!, 0, 65535) };
  } },
  { flag: '--route', env: 'PATCHBAY_ROUTE', key: 'route', help: 'static route: bridge every inbound call to this SIP URI', apply: (c, v) => { c.route = v; } },
  { flag: '--route-auth', env: 'PATCHBAY_ROUTE_AUTH', key: 'routeAuth', json: J.userPassword, help: 'user:password answering the static route\'s digest challenges', apply: (c, v) => {
    const i = v.indexOf(':');
    if (i <= 0) throw new ConfigError(`--route-auth: expected user:password, got "${v}"`);
    c.routeAuth = { username: v.slice(0, i), password: v.slice(i + 1) };
  } },
  { flag: '--realm', env: 'PATCHBAY_REALM', key: 'auth.realm', help: 'digest realm for inbound authentication (default patchbay)', apply: (c, v) => { c.auth.realm = v; } },
  { flag: '--allow', env: 'PATCHBAY_ALLOW', key: 'auth.allow', json: J.list, help: 'CIDR allow list for inbound SIP, comma-separated (default loopback); "none" clears it', apply: (c, v) => { c.auth.allow = v === 'none' ? [] : v.split(',').map((s) => s.trim()).filter(Boolean); } },
  { flag: '--credentials', env: 'PATCHBAY_CREDENTIALS', key: 'auth.credentials', json: J.userPasswords, help: 'inbound digest credentials, comma-separated user:password', apply: (c, v) => {
    c.auth.credentials = v.split(',').filter(Boolean).map((pair) => {
      const i = pair.indexOf(':');
      if (i <= 0) throw new ConfigError(`--credentials: expected user:password, got "${pair}"`);
      return { username: pair.slice(0, i), password: pair.slice(i + 1) };
    });
  } },
  { flag: '--digest-algorithms', env: 'PATCHBAY_DIGEST_ALGORITHMS', key: 'auth.algorithms', json: J.list, help: 'challenge algorithms, most preferred first (default SHA-256,MD5; MD5-only clients that read only the first challenge need MD5 first)', apply: (c, v) => {
    const list = v.split(',').map((a) => a.trim().toUpperCase());
    if (list.length === 0 || list.some((a) => a !== 'SHA-256' && a !== 'MD5')) throw new ConfigError(`--digest-algorithms: expected SHA-256 and/or MD5, got "${v}"`);
    c.auth.algorithms = list as Config['auth']['algorithms'];
  } },
  { flag: '--rate-limit', env: 'PATCHBAY_RATE_LIMIT', key: 'auth.rateLimit', json: J.integer, help: 'new SIP requests allowed per source per --rate-limit-window; more get 503 (the first 3), then are dropped (default 1000; 0 = off)', apply: (c, v) => { c.auth.rateLimit = int('--rate-limit', v, 0, 1_000_000); } },
  { flag: '--rate-limit-window', env: 'PATCHBAY_RATE_LIMIT_WINDOW', key: 'auth.rateLimitWindowSeconds', json: J.integer, help: 'seconds the rate limit counts requests over (default 2)', apply: (c, v) => { c.auth.rateLimitWindowSeconds = int('--rate-limit-window', v, 1, 3600); } },
  { flag: '--rate-limit-block', env: 'PATCHBAY_RATE_LIMIT_BLOCK', key: 'auth.rateLimitBlockSeconds', json: J.integer, help: 'seconds a source over the rate limit stays blocked, renewed while it floods (default 60)', apply: (c, v) => { c.auth.rateLimitBlockSeconds = int('--rate-limit-block', v, 1, 86400); } },
  { flag: '--rate-limit-exempt', env: 'PATCHBAY_RATE_LIMIT_EXEMPT', key: 'auth.rateLimitExempt', json: J.list, help: 'CIDRs never rate-limited, comma-separated (default loopback); "none" clears it', apply: (c, v) => { c.auth.rateLimitExempt = v === 'none' ? [] : v.split(',').map((s) => s.trim()).filter(Boolean); } },
  { flag: '--max-tracked-sources', env: 'PATCHBAY_MAX_TRACKED_SOURCES', key: 'auth.maxTrackedSources', json: J.integer, help: 'most sources the rate limit and the login lockout remember, each; the least recently active go first (default 16384)', apply: (c, v) => { c.auth.maxTrackedSources = int('--max-tracked-sources', v, 1, 10_000_000); } },
  { flag: '--auth-lockout', env: 'PATCHBAY_AUTH_LOCKOUT', key: 'auth.lockoutFailures', json: J.integer, help: 'failed digest attempts per --auth-lockout-window that lock out a source or user (default 10; 0 = off)', apply: (c, v) => { c.auth.lockoutFailures = int('--auth-lockout', v, 0, 1_000_000); } },
  { flag: '--auth-lockout-window', env: 'PATCHBAY_AUTH_LOCKOUT_WINDOW', key: 'auth.lockoutWindowSeconds', json: J.integer, help: 'seconds failed attempts are counted over (default 60)', apply: (c, v) => { c.auth.lockoutWindowSeconds = int('--auth-lockout-window', v, 1, 86400); } },
  { flag: '--auth-lockout-time', env: 'PATCHBAY_AUTH_LOCKOUT_TIME', key: 'auth.lockoutSeconds', json: J.integer, help: 'seconds a locked-out source or user gets 503 with Retry-After, even with the right password (default 60)', apply: (c, v) => { c.auth.lockoutSeconds = int('--auth-lockout-time', v, 1, 86400); } },
  { flag: '--t1', env: 'PATCHBAY_T1', key: 'sip.t1', json: J.integer, help: 'RFC 3261 timer T1 in ms (default 500)', apply: (c, v) => { c.sip.t1 = int('--t1', v, 1, 60000); } },
  { flag: '--t2', env: 'PATCHBAY_T2', key: 'sip.t2', json: J.integer, help: 'RFC 3261 timer T2 in ms (default 4000)', apply: (c, v) => { c.sip.t2 = int('--t2', v, 1, 600000); } },
  { flag: '--t4', env: 'PATCHBAY_T4', key: 'sip.t4', json: J.integer, help: 'RFC 3261 timer T4 in ms (default 5000)', apply: (c, v) => { c.sip.t4 = int('--t4', v, 1, 600000); } },
  { flag: '--timer-d', env: 'PATCHBAY_TIMER_D', key: 'sip.timerD', json: J.integer, help: 'RFC 3261 timer D in ms (default 32000, the RFC minimum over UDP)', apply: (c, v) => { c.sip.timerD = int('--timer-d', v, 0, 600000); } },
  { flag: '--udp-recv-buffer', env: 'PATCHBAY_UDP_RECV_BUFFER', key: 'sip.udpRecvBuffer', json: J.integer, help: 'UDP receive buffer to request, bytes (default 4194304; 0 = OS default; Linux caps it at net.core.rmem_max)', apply: (c, v) => { c.sip.udpRecvBuffer = int('--udp-recv-buffer', v, 0, 2147483647); } },
  { flag: '--udp-send-buffer', env: 'PATCHBAY_UDP_SEND_BUFFER', key: 'sip.udpSendBuffer', json: J.integer, help: 'UDP send buffer to request, bytes (default 4194304; 0 = OS default; Linux caps it at net.core.wmem_max)', apply: (c, v) => { c.sip.udpSendBuffer = int('--udp-send-buffer', v, 0, 2147483647); } },
  { flag: '--tcp-max-connections', env: 'PATCHBAY_TCP_MAX_CONNECTIONS', key: 'sip.tcpMaxConnections', json: J.integer, help: 'most inbound TCP/TLS connections per listener; the last eighth only for sources holding fewer than 4 (default 4096)', apply: (c, v) => { c.sip.tcpMaxConnections = int('--tcp-max-connections', v, 1, 1_000_000); } },
  { flag: '--tcp-max-per-source', env: 'PATCHBAY_TCP_MAX_PER_SOURCE', key: 'sip.tcpMaxConnectionsPerSource', json: J.integer, help: 'most inbound TCP/TLS connections from one source address (an IPv6 /64 counts as one) per listener (default 128)', apply: (c, v) => { c.sip.tcpMaxConnectionsPerSource = int('--tcp-max-per-source', v, 1, 1_000_000); } },
  { flag: '--tcp-message-timeout', env: 'PATCHBAY_TCP_MESSAGE_TIMEOUT', key: 'sip.tcpMessageTimeoutSeconds', json: J.integer, help: 'seconds a TCP/TLS message (or TLS handshake) may take from first to last byte, else the connection closes (default 20)', apply: (c, v) => { c.sip.tcpMessageTimeoutSeconds = int('--tcp-message-timeout', v, 1, 3600); } },
  { flag: '--tcp-idle-timeout', env: 'PATCHBAY_TCP_IDLE_TIMEOUT', key: 'sip.tcpIdleTimeoutSeconds', json: J.integer, help: 'seconds a TCP/TLS connection may go without a complete message either way (default 180)', apply: (c, v) => { c.sip.tcpIdleTimeoutSeconds = int('--tcp-idle-timeout', v, 1, 86400); } },
  { flag: '--max-message-bytes', env: 'PATCHBAY_MAX_MESSAGE_BYTES', key: 'parser.maxMessageBytes', json: J.integer, help: 'largest SIP message accepted (default 65535)', apply: (c, v) => { c.parser.maxMessageBytes = int('--max-message-bytes', v, 512, 1 << 20); } },
  { flag: '--max-headers', env: 'PATCHBAY_MAX_HEADERS', key: 'parser.maxHeaders', json: J.integer, help: 'most header entries per message (default 256)', apply: (c, v) => { c.parser.maxHeaders = int('--max-headers', v, 8, 1024); } },
  { flag: '--max-line-bytes', env: 'PATCHBAY_MAX_LINE_BYTES', key: 'parser.maxLineBytes', json: J.integer, help: 'longest header line accepted, bytes (default 8192)', apply: (c, v) => { c.parser.maxLineBytes = int('--max-line-bytes', v, 256, 1 << 20); } },
  { flag: '--pool', env: 'PATCHBAY_POOL', key: 'parser.pool', json: J.boolean, help: 'parse UDP in a worker pool in batches: on|off (default off)', apply: (c, v) => { c.parser.pool = onOff('--pool', v); } },
  { flag: '--pool-threads', env: 'PATCHBAY_POOL_THREADS', key: 'parser.poolThreads', json: J.integer, help: 'worker threads for the parser pool (default 1)', apply: (c, v) => { c.parser.poolThreads = int('--pool-threads', v, 1, 64); } },
  { flag: '--ring-timeout', env: 'PATCHBAY_RING_TIMEOUT', key: 'ringTimeoutSeconds', json: J.integer, help: 'seconds the static route rings before CANCEL (default 60)', apply: (c, v) => { c.ringTimeoutSeconds = int('--ring-timeout', v, 1, 600); } },
  { flag: '--drain-grace', env: 'PATCHBAY_DRAIN_GRACE', key: 'drainGraceSeconds', json: J.integer, help: 'seconds calls may go on after SIGTERM (default 30)', apply: (c, v) => { c.drainGraceSeconds = int('--drain-grace', v, 0, 86400); } },
  { flag: '--account-sid', env: 'PATCHBAY_ACCOUNT_SID', key: 'twiml.accountSid', help: 'AccountSid (AC + 32 hex) for webhooks and the REST API', apply: (c, v) => {
    if (!/^AC[0-9a-f]{32}$/i.test(v)) throw new ConfigError(`--account-sid: expected AC followed by 32 hex digits, got "${v}"`);
    c.twiml.accountSid = v;
  } },
  { flag: '--auth-token', env: 'PATCHBAY_AUTH_TOKEN', key: 'twiml.authToken', help: 'auth token: signs webhooks (X-Twilio-Signature), REST API password', apply: (c, v) => { c.twiml.authToken = v; } },
  { flag: '--voice-url', env: 'PATCHBAY_VOICE_URL', key: 'twiml.voiceUrl', help: 'TwiML application URL fetched for every inbound call', apply: (c, v) => { c.twiml.voiceUrl = httpUrl('--voice-url', v); } },
  { flag: '--voice-method', env: 'PATCHBAY_VOICE_METHOD', key: 'twiml.voiceMethod', help: 'GET|POST for --voice-url (default POST)', apply: (c, v) => { c.twiml.voiceMethod = method('--voice-method', v); } },
  { flag: '--fallback-url', env: 'PATCHBAY_FALLBACK_URL', key: 'twiml.fallbackUrl', help: 'TwiML URL fetched when --voice-url fails', apply: (c, v) => { c.twiml.fallbackUrl = httpUrl('--fallback-url', v); } },
  { flag: '--fallback-method', env: 'PATCHBAY_FALLBACK_METHOD', key: 'twiml.fallbackMethod', help: 'GET|POST for --fallback-url (default POST)', apply: (c, v) => { c.twiml.fallbackMethod = method('--fallback-method', v); } },
  { flag: '--status-callback', env: 'PATCHBAY_STATUS_CALLBACK', key: 'twiml.statusCallback', help: 'URL told when an inbound call completes', apply: (c, v) => { c.twiml.statusCallback = httpUrl('--status-callback', v); } },
  { flag: '--status-callback-method', env: 'PATCHBAY_STATUS_CALLBACK_METHOD', key: 'twiml.statusCallbackMethod', help: 'GET|POST for --status-callback (default POST)', apply: (c, v) => { c.twiml.statusCallbackMethod = method('--status-callback-method', v); } },
  { flag: '--number-route', env: 'PATCHBAY_NUMBER_ROUTE', key: 'twiml.numberRoute', help: 'SIP URI template for <Number>, e.g. sip:{number}@carrier.example.com', apply: (c, v) => { c.twiml.numberRoute = template('--number-route', v, '{number}'); } },
  { flag: '--client-route', env: 'PATCHBAY_CLIENT_ROUTE', key: 'twiml.clientRoute', help: 'SIP URI template for <Client>, e.g. sip:{client}@pbx.example.com', apply: (c, v) => { c.twiml.clientRoute = template('--client-route', v, '{client}'); } },
  { flag: '--egress', env: 'PATCHBAY_EGRESS', key: 'twiml.egress', json: J.egress, help: 'egress profiles by region, comma-separated: region=proxy-uri or region.proxy=uri / region.source=local-ip (e.g. us2=sip:10.0.0.1:5060,us2.source=10.0.0.5)', apply: (c, v) => {
    for (const item of v.split(',').map((x) => x.trim()).filter(Boolean)) {
      const m = /^(us1|us2|ie1|de1|sg1|jp1|br1|au1)(?:\.(proxy|source))?=(.+)$/.exec(item);
      if (!m) throw new ConfigError(`--egress: expected region=sip-uri, region.proxy=sip-uri or region.source=ip with a Twilio region (us1 us2 ie1 de1 sg1 jp1 br1 au1), got "${item}"`);
      const [, region, key, value] = m as unknown as [string, string, string | undefined, string];
      const profile = (c.twiml.egress[region] ??= {});
      if (key === 'source') {
        if (!/^[0-9a-f.:]+$/i.test(value)) throw new ConfigError(`--egress: ${region}.source: expected an IP address, got "${value}"`);
        profile.source = value;
      } else {
        if (!/^sips?:[^\s]+$/i.test(value)) throw new ConfigError(`--egress: ${region}: expected a sip: URI, got "${value}"`);
        profile.proxy = value;
      }
    }
  } },
  { flag: '--webhook-timeout', env: 'PATCHBAY_WEBHOOK_TIMEOUT', key: 'twiml.webhookTimeoutSeconds', json: J.integer, help: 'seconds a webhook may take (default 15)', apply: (c, v) => { c.twiml.webhookTimeoutSeconds = int('--webhook-timeout', v, 1, 120); } },
  { flag: '--webhook-thread', env: 'PATCHBAY_WEBHOOK_THREAD', key: 'twiml.webhookThread', json: J.boolean, help: 'sign and send webhooks from a worker thread, off the main thread: on|off (default on)', apply: (c, v) => { c.twiml.webhookThread = onOff('--webhook-thread', v); } },
  { flag: '--sip-domain-sid', env: 'PATCHBAY_SIP_DOMAIN_SID', key: 'twiml.sipDomainSid', help: 'SipDomainSid (SD + 32 hex) reported to the application', apply: (c, v) => {
    if (!/^SD[0-9a-f]{32}$/i.test(v)) throw new ConfigError(`--sip-domain-sid: expected SD followed by 32 hex digits, got "${v}"`);
    c.twiml.sipDomainSid = v;
  } },
  { flag: '--cdr-dir', env: 'PATCHBAY_CDR_DIR', key: 'cdr.dir', help: 'directory for completed-call records (calls.jsonl, fsync\'d in batches, rotated); restored at start', apply: (c, v) => { c.cdr.dir = v; } },
  { flag: '--cdr-max-bytes', env: 'PATCHBAY_CDR_MAX_BYTES', key: 'cdr.maxBytes', json: J.integer, help: 'rotate calls.jsonl beyond this size (default 67108864)', apply: (c, v) => { c.cdr.maxBytes = int('--cdr-max-bytes', v, 1024, 2 ** 40); } },
  { flag: '--cdr-keep', env: 'PATCHBAY_CDR_KEEP', key: 'cdr.keep', json: J.integer, help: 'rotated CDR files kept (default 10)', apply: (c, v) => { c.cdr.keep = int('--cdr-keep', v, 1, 100000); } },
  { flag: '--media', env: 'PATCHBAY_MEDIA', key: 'media.enabled', json: J.boolean, help: 'media through rtpengine: on|off (default on: an embedded rtpengine on loopback when /usr/bin/rtpengine is installed; off = signalling only)', apply: (c, v) => { c.media.enabled = onOff('--media', v); } },
  { flag: '--rtpengine', env: 'PATCHBAY_RTPENGINE', key: 'media.rtpengine', json: J.list, help: 'external rtpengine NG addresses, comma-separated udp:HOST:PORT (IPv6 as [addr]); calls are spread over them (default: an embedded rtpengine)', apply: (c, v) => {
    try { c.media.rtpengine = parseRtpengineTargets(v); } catch (err) { throw new ConfigError((err as Error).message); }
  } },
  { flag: '--log-level', env: 'PATCHBAY_LOG_LEVEL', key: 'log.level', help: 'debug|info|warn|error (default info)', apply: (c, v) => {
    if (!['debug', 'info', 'warn', 'error'].includes(v)) throw new ConfigError(`--log-level: expected debug|info|warn|error, got "${v}"`);
    c.log.level = v as Config['log']['level'];
  } },
];

/** parseArgs' option table, derived from OPTIONS: every option takes a string. */
const ARGS: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(
  [{ flag: '--config' }, ...OPTIONS].map((o) => [o.flag.slice(2), { type: 'string' as const }]));

/** One flag of argv, in order: `--flag value` or `--flag=value`. */
interface FlagToken {
  flag: string;
  value: string | undefined;
}

/**
 * Split argv into flags with `node:util` parseArgs (its tokens, so that the
 * order is kept and every refusal names the argument as typed). Not strict:
 * a value may start with a dash (`--auth-token -x`), as before.
 * @throws ConfigError on an unknown option, a positional argument or a flag without a value
 */
function flagTokens(argv: readonly string[]): FlagToken[] {
  const { tokens } = parseArgs({ args: [...argv], options: ARGS, strict: false, allowPositionals: true, tokens: true });
  const flags: FlagToken[] = [];
  for (const token of tokens) {
    const typed = argv[token.index]!;
    if (token.kind !== 'option' || !token.rawName.startsWith('--') || !Object.hasOwn(ARGS, token.name)) {
      throw new ConfigError(`unknown option "${typed}" (see patchbay serve --help)`);
    }
    if (token.value === undefined) throw new ConfigError(`${token.rawName}: missing value`);
    flags.push({ flag: token.rawName, value: token.value });
  }
  return flags;
}

/**
 * Build the configuration from argv (after `serve`) and the environment.
 * @throws ConfigError with a message naming the bad option
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  const config = defaultConfig();
  const flags = flagTokens(argv);
  const configPath = flags.find((f) => f.flag === '--config')?.value ?? env.PATCHBAY_CONFIG;
  if (configPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (err) {
      throw new ConfigError(`--config: cannot read ${configPath}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`--config: ${configPath} is not valid JSON: ${(err as Error).message}`);
    }
    applyFile(OPTIONS, config, json, configPath);
  }
  for (const option of OPTIONS) {
    const value = env[option.env];
    if (value === undefined || value === '') continue;
    try { option.apply(config, value); } catch (err) { throw renamed(err, option.flag, option.env); }
  }
  for (const { flag, value } of flags) {
    if (flag === '--config') continue;
    OPTIONS.find((o) => o.flag === flag)!.apply(config, value!);
  }
  if (config.sip.listen.some((l) => l.transport === 'tls') && (!config.sip.tlsCert || !config.sip.tlsKey)) {
    throw new ConfigError('a tls listener needs --tls-cert and --tls-key');
  }
  if (config.twiml.voiceUrl !== undefined && config.twiml.authToken === '') {
    throw new ConfigError('--voice-url needs --auth-token (webhooks are signed with it)');
  }
  return config;
}

/** The text of `patchbay serve --help`. */
export function serveHelp(): string {
  const rows = [
    ['--config FILE', 'PATCHBAY_CONFIG', '', 'JSON config file (keys, types and defaults: docs/config.md)'],
    ...OPTIONS.map((o) => [`${o.flag} VALUE`, o.env, o.key ?? '', o.help]),
  ];
  const width = (i: number): number => Math.max(...rows.map((r) => r[i]!.length));
  const [w0, w1, w2] = [width(0), width(1), width(2)];
  return ['usage: patchbay serve [options]', '', 'Precedence: flags > environment > config file > embedded defaults.',
    'Columns: flag, environment variable, config file key, meaning.', '',
    ...rows.map((r) => `  ${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]!.padEnd(w2)}  ${r[3]}`)].join('\n');
}
