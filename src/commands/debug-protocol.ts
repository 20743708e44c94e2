/**
 * DEBUG PROTOCOL <type>: Redis 7.0's test value of each reply type, for client libraries to check
 * their parsers against, byte for byte as Redis sends them in RESP2 and in RESP3. Big numbers and
 * attributes have no ReplyWriter method (no command replies with them): their RESP3 frames are
 * written here, and RESP2 gets what Redis falls back to (a bulk string; no attribute at all).
 */
import { ReplyError } from '../core/errors.js';
import type { CommandContext } from './spec.js';
import type { DebugSubcommand } from './debug-help.js';

const BIGNUM = '1234567999999999999999999999999999999';
const TYPES = 'string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false';

function reply(c: CommandContext, type: string): void {
  const out = c.out;
  const resp3 = out.proto === 3;
  switch (type) {
    case 'string': return out.bulk('Hello World');
    case 'integer': return out.int(12345);
    case 'double': return out.double(3.141);
    case 'bignum': return resp3 ? out.raw(Buffer.from(`(${BIGNUM}\r\n`)) : out.bulk(BIGNUM);
    case 'null': return out.nullBulk();
    case 'array':
    case 'set':
      if (type === 'set') out.setHeader(3);
      else out.arrayHeader(3);
      for (let j = 0; j < 3; j++) out.int(j);
      return;
    case 'map':
      out.mapHeader(3);
      for (let j = 0; j < 3; j++) {
        out.int(j);
        out.bool(j === 1);
      }
      return;
    case 'attrib':
      if (resp3) {
        out.raw(Buffer.from('|1\r\n'));
        out.bulk('key-popularity');
        out.arrayHeader(2);
        out.bulk('key:123');
        out.int(90);
      }
      // An attribute annotates a reply: a real one follows it.
      return out.bulk('Some real reply following the attribute');
    case 'push':
      if (!resp3) throw new ReplyError('ERR RESP2 is not supported by this command');
      out.pushHeader(2);
      out.bulk('server-cpu-usage');
      out.int(42);
      // A push is no answer to the command: the answer follows it.
      return out.bulk('Some real reply following the push reply');
    case 'verbatim': return out.verbatim('This is a verbatim\nstring');
    case 'true': return out.bool(true);
    case 'false': return out.bool(false);
    default:
      throw new ReplyError(`ERR Wrong protocol type name. Please use one of the following: ${TYPES}`);
  }
}

export const debugProtocolSubcommand: DebugSubcommand = {
  name: 'protocol', arity: 3, flags: ['admin'],
  run: (c, a) => reply(c, a[2]!.toString('latin1').toLowerCase()),
};
