// Goal: the MIGRATE key fence holds exactly the commands of other sessions that name a fenced key
// (directly, or in the transaction an EXEC runs), lets the owner's through, and wakes every waiter
// at release. Method: the real command table and KeyFence, sessions as the dispatcher has them.
import { describe, expect, it } from 'vitest';
import { KeyFence } from '../../src/server/key-fence.js';
import { buildCommandTable } from '../../src/commands/table.js';
import { TransientSession } from '../../src/server/transient-session.js';

const table = buildCommandTable();
const lookup = (name: string) => table.get(name);
const argv = (...parts: string[]): Buffer[] => parts.map((p) => Buffer.from(p));
const spec = (name: string) => table.get(name)!;

describe('KeyFence', () => {
  it('holds other sessions on fenced keys only, and never the owner', () => {
    const fence = new KeyFence();
    const owner = new TransientSession(2, false, 'internal');
    const other = new TransientSession(2, false, 'client');
    expect(fence.active).toBe(false);
    const release = fence.raise(owner, argv('{t}a', '{t}b'));
    expect(fence.active).toBe(true);
    expect(fence.holds(other, spec('set'), argv('SET', '{t}a', '1'), lookup)).toBe(true);
    expect(fence.holds(other, spec('mget'), argv('MGET', 'x', '{t}b'), lookup)).toBe(true);
    expect(fence.holds(other, spec('get'), argv('GET', '{t}c'), lookup)).toBe(false);
    // A value equal to a fenced key's name is not a key.
    expect(fence.holds(other, spec('set'), argv('SET', 'x', '{t}a'), lookup)).toBe(false);
    expect(fence.holds(other, spec('ping'), argv('PING'), lookup)).toBe(false);
    expect(fence.holds(owner, spec('del'), argv('DEL', '{t}a'), lookup)).toBe(false);
    // EXEC is held when its transaction names a fenced key.
    other.multi = [{ name: 'incr', argv: argv('INCR', 'y') }, { name: 'append', argv: argv('APPEND', '{t}b', 'z') }];
    expect(fence.holds(other, spec('exec'), argv('EXEC'), lookup)).toBe(true);
    other.multi = [{ name: 'incr', argv: argv('INCR', 'y') }];
    expect(fence.holds(other, spec('exec'), argv('EXEC'), lookup)).toBe(false);
    other.multi = undefined;
    release();
    release();
    expect(fence.active).toBe(false);
    expect(fence.holds(other, spec('set'), argv('SET', '{t}a', '1'), lookup)).toBe(false);
  });

  it('keeps a key fenced while any holder has it, and wakes every waiter at each release', () => {
    const fence = new KeyFence();
    const one = new TransientSession(2, false, 'internal');
    const two = new TransientSession(2, false, 'internal');
    const client = new TransientSession(2, false, 'client');
    const releaseOne = fence.raise(one, argv('k', 'k'));
    const releaseTwo = fence.raise(two, argv('k'));
    let woken = 0;
    fence.whenReleased(() => woken++);
    fence.whenReleased(() => woken++);
    releaseOne();
    expect(woken).toBe(2);
    expect(fence.holds(client, spec('get'), argv('GET', 'k'), lookup)).toBe(true);
    fence.whenReleased(() => woken++);
    releaseTwo();
    expect(woken).toBe(3);
    expect(fence.active).toBe(false);
  });
});
