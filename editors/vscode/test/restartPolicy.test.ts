import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RestartPolicy } from '../src/restartPolicy.ts';

describe('RestartPolicy', () => {
  it('doubles the wait after each crash, up to the maximum', () => {
    let now = 0;
    const policy = new RestartPolicy({
      initialDelayMs: 1000,
      maxDelayMs: 5000,
      maxCrashes: 10,
      now: () => now,
    });
    const delays = [];
    for (let i = 0; i < 5; i++) {
      delays.push(policy.onCrash());
      now += 100;
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 5000, 5000]);
  });

  it('gives up after too many crashes in the window', () => {
    let now = 0;
    const policy = new RestartPolicy({ maxCrashes: 3, windowMs: 60_000, now: () => now });
    assert.notEqual(policy.onCrash(), undefined);
    assert.notEqual(policy.onCrash(), undefined);
    assert.notEqual(policy.onCrash(), undefined);
    assert.equal(policy.onCrash(), undefined);
    assert.equal(policy.recentCrashes, 4);
  });

  it('forgets crashes older than the window: a server that stayed up is healthy again', () => {
    let now = 0;
    const policy = new RestartPolicy({
      initialDelayMs: 1000,
      maxCrashes: 2,
      windowMs: 60_000,
      now: () => now,
    });
    policy.onCrash();
    policy.onCrash();
    now = 120_000;
    assert.equal(policy.onCrash(), 1000);
  });

  it('starts afresh after a restart the user asked for', () => {
    const policy = new RestartPolicy({ maxCrashes: 1, now: () => 0 });
    policy.onCrash();
    assert.equal(policy.onCrash(), undefined);
    policy.reset();
    assert.equal(policy.onCrash(), 1000);
  });
});
