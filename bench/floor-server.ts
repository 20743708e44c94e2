/**
 * The floor for any Node.js server on this benchmark: a RESP server that parses requests and
 * answers SET/GET from a Map, with no persistence, versions, replication or limits. It takes the
 * command line of `ringkv server` (ignoring all but --port), so the harness measures it in place of
 * ringkv beside redis-server in the same run:
 *
 *   npm run bench -- --scenario no-persistence --ringkv-entry dist/bench/floor-server.js
 *
 * Its CPU per request is what Node's event loop, sockets and buffers cost before ringkv does
 * anything; ringkv's own cost is the difference.
 */
import net from 'node:net';

const CRLF = 0x0d;
const OK = Buffer.from('+OK\r\n');
const PONG = Buffer.from('+PONG\r\n');
const NIL = Buffer.from('$-1\r\n');
const EMPTY_ARRAY = Buffer.from('*0\r\n');

const portFlag = process.argv.indexOf('--port');
const port = portFlag > 0 ? Number(process.argv[portFlag + 1]) : 6399;
const data = new Map<string, Buffer>();

/** Parses one `*N $len arg …` request at `at`; undefined when it has not fully arrived. */
function parseRequest(buf: Buffer, at: number): { argv: Buffer[]; next: number } | undefined {
  let eol = buf.indexOf(CRLF, at);
  if (eol < 0) return undefined;
  const count = Number(buf.toString('latin1', at + 1, eol));
  let pos = eol + 2;
  const argv: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    eol = buf.indexOf(CRLF, pos);
    if (eol < 0) return undefined;
    const len = Number(buf.toString('latin1', pos + 1, eol));
    pos = eol + 2;
    if (pos + len + 2 > buf.length) return undefined;
    argv.push(buf.subarray(pos, pos + len));
    pos += len + 2;
  }
  return { argv, next: pos };
}

function execute(argv: Buffer[], replies: Buffer[]): void {
  const name = argv[0]!.toString('latin1').toLowerCase();
  if (name === 'set') {
    data.set(argv[1]!.toString('latin1'), Buffer.from(argv[2]!));
    replies.push(OK);
  } else if (name === 'get') {
    const v = data.get(argv[1]!.toString('latin1'));
    if (v === undefined) replies.push(NIL);
    else replies.push(Buffer.from(`$${v.length}\r\n`), v, Buffer.from('\r\n'));
  } else if (name === 'ping') replies.push(PONG);
  else if (name === 'config') replies.push(EMPTY_ARRAY);
  else replies.push(OK);
}

net
  .createServer((socket) => {
    socket.setNoDelay(true);
    let pending: Buffer | undefined;
    socket.on('data', (chunk: Buffer) => {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      const replies: Buffer[] = [];
      let at = 0;
      for (;;) {
        const req = at < buf.length ? parseRequest(buf, at) : undefined;
        if (req === undefined) break;
        execute(req.argv, replies);
        at = req.next;
      }
      pending = at < buf.length ? Buffer.from(buf.subarray(at)) : undefined;
      if (replies.length > 0) socket.write(replies.length === 1 ? replies[0]! : Buffer.concat(replies));
    });
    socket.on('error', () => socket.destroy());
  })
  .listen(port, '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
