import { describe, it, expect } from 'vitest';
import { bareHost, defaultPort, uriHost } from '../../../runtime/sip/via.js';

describe('Via host helpers', () => {
  it('normalises hosts and knows default ports', () => {
    expect(bareHost('[2001:DB8::1]')).toBe('2001:db8::1');
    expect(uriHost('::1')).toBe('[::1]');
    expect(uriHost('127.0.0.1')).toBe('127.0.0.1');
    expect(defaultPort('tls')).toBe(5061);
    expect(defaultPort('UDP')).toBe(5060);
  });
});
