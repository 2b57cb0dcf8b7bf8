/**
 * The state a listener keeps for a served request (ts/server/context.ts):
 * what `env()` and `disconnect()` do during the request and after it ended,
 * when the state lets go of the request (an async context may keep the state
 * reachable long after).
 */
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { ServedState } from '../../ts/server/context.ts';

describe("a served request's state", () => {
  test('the environ is made once, on first use; disconnect() closes the connection while the request runs', () => {
    let made = 0;
    let dropped = 0;
    const s = new ServedState(5, () => { made++; return { REQUEST_METHOD: 'GET' }; }, () => { dropped++; });
    assert.equal(s.cl, 5);
    assert.equal(made, 0);
    assert.equal(s.env().REQUEST_METHOD, 'GET');
    assert.equal(s.env(), s.env());
    assert.equal(made, 1);
    s.disconnect();
    assert.equal(dropped, 1);
  });

  test('after release(): the environ made before stays, none is made any more, and disconnect() no longer reaches the connection', () => {
    let made = 0;
    let dropped = 0;
    const used = new ServedState(0, () => { made++; return { PATH_INFO: '/a' }; }, () => { dropped++; });
    const env = used.env();
    used.release();
    assert.equal(used.env(), env);
    // A leftover timer of an ended request must not close a keep-alive connection now serving another one.
    used.disconnect();
    assert.equal(dropped, 0);
    const unused = new ServedState(0, () => { made++; return { PATH_INFO: '/b' }; }, () => { dropped++; });
    unused.release();
    assert.deepEqual(Object.keys(unused.env()), []);
    assert.equal(made, 1);
    assert.equal(dropped, 0);
  });
});
