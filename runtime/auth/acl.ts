/**
 * IP access-control lists: ordered allow/deny entries over IPv4 and IPv6
 * CIDR blocks, first match wins, matched by `node:net` BlockList. IPv4-mapped
 * IPv6 addresses (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2), as a dual-stack
 * socket reports IPv4 peers, are matched as the IPv4 address they carry:
 * against IPv4 entries and entries written as IPv4-mapped IPv6 (prefix 96 or
 * more), never against other IPv6 entries (`::/0` is every IPv6 peer, not
 * every peer), which BlockList alone would do.
 */
import { BlockList, SocketAddress, isIPv4, isIPv6 } from 'node:net';
import { AuthBadCidrError, err, ok, type Result } from './errors.js';

/** What a matching entry decides. */
export type AclAction = 'allow' | 'deny';

/** One configured entry: an address (`10.0.0.1`, `::1`) or a block (`10.0.0.0/8`, `2001:db8::/32`). */
export interface AclEntry {
  action: AclAction;
  cidr: string;
}

/** The embedded default: loopback only. */
export const DEFAULT_ACL_ENTRIES: readonly AclEntry[] = [
  { action: 'allow', cidr: '127.0.0.0/8' },
  { action: 'allow', cidr: '::1/128' },
];

/** An address as a number, IPv4-mapped IPv6 folded to IPv4 (for `sourceKey`, which needs the bits of a /64). */
interface Address {
  family: 4 | 6;
  value: bigint;
}

const MAPPED_PREFIX = 0xffffn;

function parseIpv4(text: string): bigint {
  return text.split('.').reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

/** Parse an address `node:net` already accepted as IPv6 (no zone identifier). */
function parseIpv6(text: string): bigint {
  let body = text;
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    const ipv4 = parseIpv4(body.slice(lastColon + 1));
    body = `${body.slice(0, lastColon + 1)}${(ipv4 >> 16n).toString(16)}:${(ipv4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = body.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

/** Read an address without folding IPv4-mapped ones; undefined when it is no IP address. */
function readRawAddress(text: string): Address | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zoneless = bare.split('%')[0] ?? '';
  if (isIPv4(zoneless)) return { family: 4, value: parseIpv4(zoneless) };
  if (isIPv6(zoneless)) return { family: 6, value: parseIpv6(zoneless) };
  return undefined;
}

/** Read an address to match, IPv4-mapped IPv6 folded to IPv4; undefined when it is no IP address. */
function readAddress(text: string): Address | undefined {
  const address = typeof text === 'string' ? readRawAddress(text.trim()) : undefined;
  if (address?.family === 6 && address.value >> 32n === MAPPED_PREFIX) {
    return { family: 4, value: address.value & 0xffffffffn };
  }
  return address;
}

/**
 * The key per-source limits count under: an IPv4 address (IPv4-mapped IPv6
 * folded to it), or the /64 prefix of an IPv6 address, since one host
 * usually holds a whole /64 (RFC 4291 §2.5.1) and could otherwise rotate
 * through it; undefined when `ip` is no IP address.
 */
export function sourceKey(ip: string): string | undefined {
  if (isIPv4(ip)) return ip;
  const address = readAddress(ip);
  if (address === undefined) return undefined;
  if (address.family === 6) return `${(address.value >> 64n).toString(16)}::/64`;
  const v = Number(address.value);
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

function width(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/** ::ffff:0:0/96, the IPv4-mapped IPv6 addresses. */
const MAPPED = new BlockList();
MAPPED.addSubnet('::ffff:0.0.0.0', 96, 'ipv6');

/** An address text without brackets or zone identifier, and its family; undefined when it is no IP address. */
function bareAddress(text: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const address = bare.split('%')[0] ?? '';
  if (isIPv4(address)) return { address, family: 'ipv4' };
  if (isIPv6(address)) return { address, family: 'ipv6' };
  return undefined;
}

/** One entry, checked: its address, prefix, and whether IPv4 peers are matched against it. */
interface Rule {
  action: AclAction;
  address: string;
  family: 'ipv4' | 'ipv6';
  prefix: number;
  /** An IPv4 entry, or IPv4-mapped IPv6 with a prefix of 96 or more. */
  ipv4: boolean;
}

function readRule(entry: AclEntry): Rule | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  if ((entry.action !== 'allow' && entry.action !== 'deny') || typeof entry.cidr !== 'string') return undefined;
  const [addressText = '', prefixText, extra] = entry.cidr.trim().split('/');
  if (extra !== undefined) return undefined;
  const bare = bareAddress(addressText);
  if (bare === undefined) return undefined;
  const max = width(bare.family === 'ipv4' ? 4 : 6);
  let prefix = max;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > max) return undefined;
  }
  const ipv4 = bare.family === 'ipv4' || (prefix >= 96 && MAPPED.check(bare.address, 'ipv6'));
  return { action: entry.action, ...bare, prefix, ipv4 };
}

/** Consecutive entries with one action: the IPv4 side (IPv4 and mapped entries) and the IPv6 side. */
interface Run {
  action: AclAction;
  ipv4: BlockList;
  ipv6: BlockList;
}

/** An ordered access list; build one with `createAcl`. */
/** Addresses whose verdict is remembered: BlockList.check builds a SocketAddress per call, too much per request. */
const VERDICTS_KEPT = 4096;

export class Acl {
  readonly #runs: readonly Run[];
  /** Verdicts by source address text (null: no entry covers it); cleared when full, so a flood of sources stays bounded. */
  readonly #verdicts = new Map<string, AclAction | null>();

  private constructor(runs: readonly Run[]) {
    this.#runs = runs;
  }

  /**
   * Build an ACL from entries, first match wins. Host bits below the prefix
   * are ignored (`10.1.2.3/8` is `10.0.0.0/8`).
   * @return the ACL, or PB_ERR_AUTH_BAD_CIDR naming the first bad entry.
   */
  static create(entries: readonly AclEntry[]): Result<Acl, AuthBadCidrError> {
    const runs: Run[] = [];
    for (const [index, entry] of entries.entries()) {
      const rule = readRule(entry);
      if (rule === undefined) {
        return err(new AuthBadCidrError(`ACL entry ${index} (${JSON.stringify(entry)}) is not an allow/deny CIDR`));
      }
      let run = runs.at(-1);
      if (run?.action !== rule.action) {
        run = { action: rule.action, ipv4: new BlockList(), ipv6: new BlockList() };
        runs.push(run);
      }
      (rule.ipv4 ? run.ipv4 : run.ipv6).addSubnet(rule.address, rule.prefix, rule.family);
    }
    return ok(new Acl(runs));
  }

  /** The action of the first entry covering `ip`, or undefined (no entry, or not an IP address). */
  match(ip: string): AclAction | undefined {
    if (typeof ip !== 'string') return undefined;
    const known = this.#verdicts.get(ip);
    if (known !== undefined) return known ?? undefined;
    const verdict = this.#check(ip);
    if (this.#verdicts.size >= VERDICTS_KEPT) this.#verdicts.clear();
    this.#verdicts.set(ip, verdict ?? null);
    return verdict;
  }

  #check(ip: string): AclAction | undefined {
    const bare = bareAddress(ip.trim());
    if (bare === undefined) return undefined;
    const address = new SocketAddress(bare);
    const ipv4 = bare.family === 'ipv4' || MAPPED.check(address);
    for (const run of this.#runs) {
      if ((ipv4 ? run.ipv4 : run.ipv6).check(address)) return run.action;
    }
    return undefined;
  }

  /** True when the first entry covering `ip` allows it. */
  isAllowed(ip: string): boolean {
    return this.match(ip) === 'allow';
  }
}

/** Build an ACL from entries (see `Acl.create`). */
export function createAcl(entries: readonly AclEntry[]): Result<Acl, AuthBadCidrError> {
  return Acl.create(entries);
}

/** The embedded default ACL: 127.0.0.0/8 and ::1 allowed, nothing else. */
export function createDefaultAcl(): Acl {
  const acl = Acl.create(DEFAULT_ACL_ENTRIES);
  if (!acl.ok) throw acl.error;
  return acl.value;
}
