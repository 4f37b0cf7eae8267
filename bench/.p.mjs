import { sipJsPeer } from '../dist/bench/peers/sip-js.js';
import { jssipPeer } from '../dist/bench/peers/jssip.js';
import { loadMessageFixtures } from '../dist/bench/lib/fixtures.js';
const f = loadMessageFixtures()[0];
for (const p of [jssipPeer, sipJsPeer]) {
  for (let r = 0; r < 3; r++) {
    const n = 300; const t = performance.now();
    for (let i = 0; i < n; i++) p.parse(f.bytes);
    console.log(p.name, ((performance.now() - t) / n * 1000).toFixed(1), 'us');
  }
}
