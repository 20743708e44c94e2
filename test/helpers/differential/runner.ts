/**
 * Runs one scenario on the reference (redis-server) and on a ringkv target in lockstep: phase by
 * phase, each connection's pipeline leaves in one socket write, exactly as many replies are read
 * back as commands were sent, and every reply is compared with the reference's. The first mismatch
 * fails with a reproducer: seed, target, the connection's commands up to it and both replies.
 */
import net from 'node:net';
import { formatCommand, type Batch, type DiffCommand, type Scenario } from './command.js';
import { canonical, canonicalExec, describeCanonical, sameCanonical, type Canonical } from './normalise.js';
import { encodeCommand, printable, RespReader, type RespReply } from './resp.js';

export interface Target {
  name: string;
  /** The port connection `conn` talks to. */
  port(conn: number): number;
}

const REPLY_TIMEOUT_MS = 15000;
const TRANSCRIPT_LINES_MAX = 1500;

/** One client connection speaking raw RESP. */
class RawConnection {
  private readonly reader = new RespReader();
  private waiting: { want: number; got: RespReply[]; done: (err?: Error) => void } | undefined;
  private closedWith: Error | undefined;

  private constructor(private readonly sock: net.Socket, readonly port: number) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        sock.setNoDelay(true);
        resolve(new RawConnection(sock, port));
      });
    });
  }

  private fail(err: Error): void {
    this.closedWith ??= err;
    this.waiting?.done(err);
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    try {
      for (;;) {
        const reply = this.reader.next();
        if (reply === undefined) break;
        if (this.waiting === undefined || this.waiting.got.length >= this.waiting.want) {
          this.fail(new Error(`a reply nobody asked for: ${printable(reply.raw)}`));
          return;
        }
        this.waiting.got.push(reply);
        if (this.waiting.got.length === this.waiting.want) this.waiting.done();
      }
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Writes all commands at once and resolves with exactly one reply per command. */
  send(commands: readonly DiffCommand[]): Promise<RespReply[]> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const got: RespReply[] = [];
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`timed out after ${REPLY_TIMEOUT_MS} ms with ${got.length} of ${commands.length} replies; unparsed: ${printable(this.reader.pending())}`));
      }, REPLY_TIMEOUT_MS);
      this.waiting = {
        want: commands.length,
        got,
        done: (err) => {
          clearTimeout(timer);
          this.waiting = undefined;
          if (err) reject(new Error(`${err.message} (after ${got.length} of ${commands.length} replies)`));
          else resolve(got);
        },
      };
      this.sock.write(Buffer.concat(commands.map((c) => encodeCommand(c.args))));
    });
  }

  close(): void {
    this.sock.removeAllListeners('close');
    this.sock.destroy();
  }
}

/**
 * Follows MULTI / EXEC on one connection so that EXEC's elements are compared by the Checks of the
 * commands that were queued. It follows the server's own replies: whether a command was queued is
 * what the server said, not what the generator expected.
 */
class TransactionTracker {
  private queued: DiffCommandCheck[] | undefined;
  /** The reply before the one being observed (a `hashOrder` check reads it). */
  private previous: RespReply | undefined;

  observe(c: DiffCommand, r: RespReply): Canonical {
    const previous = this.previous;
    this.previous = r;
    return this.judge(c, r, previous);
  }

  private judge(c: DiffCommand, r: RespReply, previous: RespReply | undefined): Canonical {
    const name = c.args[0]!.toString('latin1').toLowerCase();
    const plain = c.args.length === 1;
    if (this.queued === undefined) {
      if (name === 'multi' && plain && r.type === '+') this.queued = [];
      return canonical(r, c.check, previous);
    }
    // EXEC ends the transaction; so does an EXEC refused while queueing (Redis then answers
    // EXECABORT, e.g. for EXEC with arguments).
    if (name === 'exec' && (plain || r.raw.toString('latin1').startsWith('-EXECABORT'))) {
      const queued = this.queued;
      this.queued = undefined;
      return canonicalExec(r, queued);
    }
    if (name === 'discard' && plain) this.queued = undefined;
    else if (r.type === '+' && r.raw.toString('latin1') === '+QUEUED\r\n') this.queued.push(c.check);
    return canonical(r, c.check, previous);
  }
}
type DiffCommandCheck = DiffCommand['check'];

interface Side {
  target: Target;
  conns: RawConnection[];
  trackers: TransactionTracker[];
}

async function openSide(target: Target, count: number): Promise<Side> {
  const conns: RawConnection[] = [];
  try {
    for (let i = 0; i < count; i++) conns.push(await RawConnection.open(target.port(i)));
  } catch (err) {
    for (const c of conns) c.close();
    throw new Error(`${target.name}: cannot connect: ${(err as Error).message}`);
  }
  return { target, conns, trackers: conns.map(() => new TransactionTracker()) };
}

async function runBatches(side: Side, batches: readonly Batch[]): Promise<RespReply[][]> {
  return Promise.all(batches.map(async (b) => {
    try {
      return await side.conns[b.conn]!.send(b.commands);
    } catch (err) {
      throw new Error(`${side.target.name}, connection ${b.conn} (port ${side.conns[b.conn]!.port}): ${(err as Error).message}`);
    }
  }));
}

export interface RunStats {
  commands: number;
  phases: number;
}

/** One line of a connection's history for the failure message. */
interface HistoryLine {
  phase: number;
  conn: number;
  command: DiffCommand;
  /** The connection whose keys this command works on, when not its own. */
  touches?: number;
}

export interface RunContext {
  /** How to replay this run, printed with any failure. */
  replay: string;
}

export async function runDifferential(scenario: Scenario, reference: Target, subject: Target, ctx: RunContext): Promise<RunStats> {
  const ref = await openSide(reference, scenario.connections);
  let sub: Side | undefined;
  try {
    sub = await openSide(subject, scenario.connections);
    return await lockstep(scenario, ref, sub, ctx);
  } finally {
    for (const c of [...ref.conns, ...(sub?.conns ?? [])]) c.close();
  }
}

async function lockstep(scenario: Scenario, ref: Side, sub: Side, ctx: RunContext): Promise<RunStats> {
  const history: HistoryLine[] = [];
  const header = (conn: number): string =>
    `seed ${scenario.seed}, target ${sub.target.name}, RESP${scenario.protocol}, connection ${conn} (ringkv port ${sub.target.port(conn)})`;

  if (scenario.protocol === 3) {
    const hello: DiffCommand = { args: [Buffer.from('HELLO'), Buffer.from('3')], check: { kind: 'shape' } };
    const batches = Array.from({ length: scenario.connections }, (_, conn): Batch => ({ conn, commands: [hello] }));
    const [a, b] = await Promise.all([runBatches(ref, batches), runBatches(sub, batches)]);
    for (let conn = 0; conn < scenario.connections; conn++) {
      // HELLO's map holds server name, version and ids: only its type is compared.
      if (a[conn]![0]!.type !== '%' || b[conn]![0]!.type !== '%') {
        throw new Error(`HELLO 3 did not answer a map: ${header(conn)}\nredis-server: ${printable(a[conn]![0]!.raw)}\nringkv:       ${printable(b[conn]![0]!.raw)}\nreplay: ${ctx.replay}`);
      }
    }
  }

  let commands = 0;
  for (let p = 0; p < scenario.phases.length; p++) {
    const phase = scenario.phases[p]!;
    let a: RespReply[][];
    let b: RespReply[][];
    try {
      [a, b] = await Promise.all([runBatches(ref, phase.batches), runBatches(sub, phase.batches)]);
    } catch (err) {
      const conn = phase.batches[0]!.conn;
      throw new Error(`${(err as Error).message}\n${header(conn)}, phase ${p}\n${transcript(history, phase.batches, p)}\nreplay: ${ctx.replay}`);
    }
    for (let i = 0; i < phase.batches.length; i++) {
      const batch = phase.batches[i]!;
      for (let j = 0; j < batch.commands.length; j++) {
        const command = batch.commands[j]!;
        history.push({ phase: p, conn: batch.conn, command, touches: batch.touches });
        const want = ref.trackers[batch.conn]!.observe(command, a[i]![j]!);
        const got = sub.trackers[batch.conn]!.observe(command, b[i]![j]!);
        commands++;
        if (!sameCanonical(want, got)) {
          const owner = batch.touches ?? batch.conn;
          throw new Error([
            `reply mismatch: ${header(batch.conn)}, phase ${p}, command ${j + 1} of its pipeline: ${formatCommand(command)}`,
            `commands on connection ${batch.conn}${owner === batch.conn ? '' : ` and connection ${owner}, whose keys it touches,`} and on its keys from other connections, up to the mismatch:`,
            historyOf(history, new Set([batch.conn, owner])),
            `redis-server: ${describeCanonical(want)}`,
            `ringkv:       ${describeCanonical(got)}`,
            `raw redis-server: ${printable(a[i]![j]!.raw)}`,
            `raw ringkv:       ${printable(b[i]![j]!.raw)}`,
            `replay: ${ctx.replay}`,
          ].join('\n'));
        }
      }
    }
  }
  return { commands, phases: scenario.phases.length };
}

/**
 * The commands of the given connections in the order they ran, plus those of batches that touched
 * these connections' keys from elsewhere (a WATCH broken from outside), marked with their connection.
 */
function historyOf(history: readonly HistoryLine[], conns: ReadonlySet<number>): string {
  const lines = history.filter((h) => conns.has(h.conn) || (h.touches !== undefined && conns.has(h.touches))).map((h) => `  [phase ${h.phase}, conn ${h.conn}] ${formatCommand(h.command)}`);
  const cut = lines.length - TRANSCRIPT_LINES_MAX;
  return (cut > 0 ? [`  … ${cut} earlier commands`, ...lines.slice(cut)] : lines).join('\n');
}

function transcript(history: readonly HistoryLine[], batches: readonly Batch[], phase: number): string {
  const conns = new Set(batches.flatMap((b) => (b.touches === undefined ? [b.conn] : [b.conn, b.touches])));
  const pending = batches.flatMap((b) => b.commands.map((command): HistoryLine => ({ phase, conn: b.conn, command, touches: b.touches })));
  return `commands up to the failing phase:\n${historyOf([...history, ...pending], conns)}`;
}
