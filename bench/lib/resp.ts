import net from 'node:net';

/** A decoded RESP2 reply: simple and bulk strings as strings, errors as RespError. */
export type RespValue = string | number | null | RespError | RespValue[];

export class RespError {
  constructor(readonly message: string) {}
}

function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

interface Parsed {
  value: RespValue;
  next: number;
}

/** Parses one reply starting at `pos`; null when the buffer does not hold all of it yet. */
function parseReply(buf: Buffer, pos: number): Parsed | null {
  const lineEnd = buf.indexOf('\r\n', pos);
  if (lineEnd < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, lineEnd);
  const after = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, next: after };
    case '-':
      return { value: new RespError(line), next: after };
    case ':':
      return { value: Number(line), next: after };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return null;
      return { value: buf.toString('utf8', after, after + len), next: after + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next: after };
      const items: RespValue[] = [];
      let cursor = after;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, cursor);
        if (item === null) return null;
        items.push(item.value);
        cursor = item.next;
      }
      return { value: items, next: cursor };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/**
 * Sends one command on a fresh connection and returns the reply. Used for readiness and
 * topology polling (PING, CLUSTER INFO, CLUSTER NODES), never on a measured path.
 */
export function respCommand(host: string, port: number, args: readonly string[], timeoutMs = 1000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`${args[0] ?? 'command'} to ${host}:${port} timed out`)));
    socket.once('error', fail);
    socket.once('close', () => reject(new Error(`${host}:${port} closed the connection`)));
    socket.on('connect', () => socket.write(encodeCommand(args)));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let parsed: Parsed | null;
      try {
        parsed = parseReply(buf, 0);
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (parsed !== null) {
        socket.destroy();
        resolve(parsed.value);
      }
    });
  });
}

/** Like respCommand, but a string reply is required (CLUSTER INFO, CLUSTER NODES). */
export async function respString(host: string, port: number, args: readonly string[], timeoutMs = 1000): Promise<string> {
  const reply = await respCommand(host, port, args, timeoutMs);
  if (reply instanceof RespError) throw new Error(`${args.join(' ')} on ${host}:${port}: ${reply.message}`);
  if (typeof reply !== 'string') throw new Error(`${args.join(' ')} on ${host}:${port}: unexpected reply ${JSON.stringify(reply)}`);
  return reply;
}
