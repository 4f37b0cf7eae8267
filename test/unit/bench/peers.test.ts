import { describe, expect, it } from 'vitest';
import { loadMessageFixtures, type MessageFixtureName } from '../../../bench/lib/fixtures.js';
import { loadJsPeers } from '../../../bench/peers/index.js';
import type { ProxyFields } from '../../../bench/peers/types.js';

const EXPECTED: Record<MessageFixtureName, ProxyFields> = {
  'invite-sdp': {
    branch: 'z9hG4bK776asdhds-1',
    callId: 'a84b4c76e66710@pc33.atlanta.example.com',
    cseq: 314159,
    fromTag: '1928301774',
    toTag: undefined,
  },
  'ok-200': {
    branch: 'z9hG4bKnashds8',
    callId: 'a84b4c76e66710@pc33.atlanta.example.com',
    cseq: 314159,
    fromTag: '1928301774',
    toTag: 'a6c85cf',
  },
  refer: {
    branch: 'z9hG4bK4b43c2ff8.1',
    callId: 'a84b4c76e66710@pc33.atlanta.example.com',
    cseq: 2,
    fromTag: 'a6c85cf',
    toTag: '1928301774',
  },
  options: {
    branch: 'z9hG4bK.hc-3f9a2c',
    callId: 'hc-5c0f3e1a9d@203.0.113.5',
    cseq: 4711,
    fromTag: 'hc-77120',
    toTag: undefined,
  },
};

const fixtures = loadMessageFixtures();
const peers = loadJsPeers();

describe('JavaScript peer parsers', () => {
  it('include sip, jssip and sip.js', () => {
    const names = peers.map((peer) => peer.name.slice(0, peer.name.lastIndexOf('@')));
    expect(names).toEqual(expect.arrayContaining(['sip', 'jssip', 'sip.js']));
  });

  describe.each(peers.map((peer) => [peer.name, peer] as const))('%s', (_name, peer) => {
    it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))(
      'reads the proxy fields of %s',
      (name, fixture) => {
        expect(peer.proxyFields(fixture.bytes)).toEqual(EXPECTED[name]);
      },
    );

    it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))('parses %s', (_fixture, fixture) => {
      expect(peer.parse(fixture.bytes)).toBeTypeOf('object');
    });
  });
});
