/**
 * parse-message: one suite per message fixture, each comparing the JavaScript SIP parsers (and,
 * through `patchbay-tasks.ts`, Patchbay's) in two modes: `parse` alone, and `parse+proxy`, which also
 * reads the fields a proxy needs. The baseline of each mode is the fastest JavaScript peer.
 */
import { isDeepStrictEqual } from 'node:util';
import { loadMessageFixtures, MESSAGE_FIXTURE_NAMES, type MessageFixture, type MessageFixtureName } from '../lib/fixtures.js';
import type { BenchSuite, BenchTask } from '../lib/types.js';
import { loadJsPeers, type SipPeer } from '../peers/index.js';
import { patchbayTasks, type ParseMode, type PatchbayTask } from './patchbay-tasks.js';

/** Everything the suites share, built once by the first `setup()`. */
interface Prepared {
  fixtures: MessageFixture[];
  peers: SipPeer[];
  patchbay: PatchbayTask[];
}

let prepared: Promise<Prepared> | undefined;

async function prepare(): Promise<Prepared> {
  const fixtures = loadMessageFixtures();
  return { fixtures, peers: loadJsPeers(), patchbay: await patchbayTasks(fixtures) };
}

/** Refuses to measure peers that disagree on what the message says. */
function checkPeersAgree(peers: readonly SipPeer[], fixture: MessageFixture): void {
  const [first, ...others] = peers;
  if (first === undefined) {
    throw new Error('no JavaScript peer could be loaded');
  }
  const expected = first.proxyFields(fixture.bytes);
  if (expected.callId === undefined || expected.branch === undefined) {
    throw new Error(`${first.name} cannot read ${fixture.name}: ${JSON.stringify(expected)}`);
  }
  for (const peer of others) {
    const actual = peer.proxyFields(fixture.bytes);
    if (!isDeepStrictEqual(actual, expected)) {
      throw new Error(`${peer.name} and ${first.name} disagree on ${fixture.name}: ${JSON.stringify(actual)}`);
    }
  }
}

function peerTasks(peers: readonly SipPeer[], bytes: Uint8Array, mode: ParseMode): BenchTask[] {
  return peers.map((peer) => ({
    name: `${peer.name} ${mode}`,
    fn: mode === 'parse' ? () => peer.parse(bytes) : () => peer.proxyFields(bytes),
    group: mode,
    reference: true,
  }));
}

/** The floor under every string-based parser: turning the datagram into a string. */
function decodeTask(bytes: Uint8Array): BenchTask {
  const decoder = new TextDecoder('utf-8');
  return { name: '(floor) utf-8 decode only', fn: () => decoder.decode(bytes), group: 'parse' };
}

function buildTasks(shared: Prepared, name: MessageFixtureName): BenchTask[] {
  const fixture = shared.fixtures.find((candidate) => candidate.name === name);
  if (fixture === undefined) {
    throw new Error(`fixture ${name} is missing`);
  }
  checkPeersAgree(shared.peers, fixture);
  const tasks: BenchTask[] = [];
  for (const mode of ['parse', 'parse+proxy'] as const) {
    tasks.push(...peerTasks(shared.peers, fixture.bytes, mode));
    for (const task of shared.patchbay) {
      if (task.fixture === name && task.mode === mode) {
        tasks.push({ name: task.name, fn: task.fn, group: mode });
      }
    }
  }
  tasks.push(decodeTask(fixture.bytes));
  return tasks;
}

function createSuite(name: MessageFixtureName): BenchSuite {
  const suite: BenchSuite = {
    name: `parse-message/${name}`,
    baselineLabel: 'fastest JS peer of the same mode',
    tasks: [],
    async setup(): Promise<void> {
      prepared ??= prepare();
      suite.tasks = buildTasks(await prepared, name);
    },
  };
  return suite;
}

/**
 * Registers one suite per message fixture: `parse-message/invite-sdp`, `parse-message/ok-200`,
 * `parse-message/refer` and `parse-message/options`.
 * @returns the suites
 */
export function register(): BenchSuite[] {
  return MESSAGE_FIXTURE_NAMES.map(createSuite);
}
