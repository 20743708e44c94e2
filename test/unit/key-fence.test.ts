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

  it('lets reads through a fence against writes, and holds writes and transactions that write', () => {
    const fence = new KeyFence();
    const owner = new TransientSession(2, false, 'internal');
    const other = new TransientSession(2, false, 'client');
    const release = fence.raise(owner, argv('big'), { writesOnly: true });
    expect(fence.active).toBe(true);
    for (const read of [['SCARD', 'big'], ['SISMEMBER', 'big', 'm'], ['SMEMBERS', 'big'], ['EVAL_RO', 'return 1', '1', 'big'], ['SORT_RO', 'big']]) {
      expect(fence.holds(other, spec(read[0]!.toLowerCase()), argv(...read), lookup), read.join(' ')).toBe(false);
    }
    for (const write of [['SADD', 'big', 'm'], ['SPOP', 'big'], ['DEL', 'big'], ['EXPIRE', 'big', '10'], ['EVAL', 'return 1', '1', 'big'], ['SORT', 'big', 'STORE', 'x']]) {
      expect(fence.holds(other, spec(write[0]!.toLowerCase()), argv(...write), lookup), write.join(' ')).toBe(true);
    }
    // Another holder's fence against every command still holds reads.
    const migrating = fence.raise(new TransientSession(2, false, 'internal'), argv('big'));
    expect(fence.holds(other, spec('scard'), argv('SCARD', 'big'), lookup)).toBe(true);
    migrating();
    expect(fence.holds(other, spec('scard'), argv('SCARD', 'big'), lookup)).toBe(false);
    other.multi = [{ name: 'scard', argv: argv('SCARD', 'big') }];
    expect(fence.holds(other, spec('exec'), argv('EXEC'), lookup)).toBe(false);
    other.multi = [{ name: 'scard', argv: argv('SCARD', 'big') }, { name: 'srem', argv: argv('SREM', 'big', 'm') }];
    expect(fence.holds(other, spec('exec'), argv('EXEC'), lookup)).toBe(true);
    release();
    expect(fence.active).toBe(false);
    expect(fence.holds(other, spec('sadd'), argv('SADD', 'big', 'm'), lookup)).toBe(false);
  });
});
