import { describe, expect, it } from 'vitest';
import { Stopper } from '../../../runtime/calls/stop.js';

describe('Stopper', () => {
  it('runs each listener once, in order, and forgets removed ones', () => {
    const stopper = new Stopper();
    const heard: string[] = [];
    stopper.onStop(() => heard.push('a'));
    const forget = stopper.onStop(() => heard.push('b'));
    stopper.onStop(() => heard.push('c'));
    forget();
    expect(stopper.stopped).toBe(false);
    stopper.stop();
    stopper.stop();
    expect(stopper.stopped).toBe(true);
    expect(heard).toEqual(['a', 'c']);
  });

  it('runs a listener added after the stop at once', () => {
    const stopper = new Stopper();
    stopper.stop();
    let heard = 0;
    stopper.onStop(() => heard++);
    expect(heard).toBe(1);
  });

  it('a listener that throws does not keep the later ones from running; the first error is rethrown after all ran', () => {
    const stopper = new Stopper();
    const heard: string[] = [];
    stopper.onStop(() => { heard.push('a'); throw new Error('first'); });
    stopper.onStop(() => { heard.push('b'); throw new Error('second'); });
    stopper.onStop(() => heard.push('c'));
    expect(() => stopper.stop()).toThrow('first');
    expect(heard).toEqual(['a', 'b', 'c']);
    expect(stopper.stopped).toBe(true);
  });
});
