import { keyPositions, type CommandSpec } from '../commands/spec.js';
import { parseBlockTimeout } from '../commands/blocking.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import type { Attempt, AttemptResult } from './blocked-clients.js';
import type { ReplySink } from './connection.js';
import type { BlockAttempt, SessionState } from './session-state.js';
import { CaptureSink } from './transient-session.js';

/**
 * The two ways a blocking command is tried (blocked-clients.ts). Either runs the command as an
 * ordinary command with the session's try marker set, so the command records a wait instead of
 * answering null when it finds nothing.
 */

/** Standalone: the command on the local keyspace, synchronously. */
export function localAttempt(session: SessionState, run: (out: ReplyWriter) => void): Attempt {
  let memo: unknown;
  return (retry) => {
    const out = new ReplyWriter(session.proto, 256);
    const attempt: BlockAttempt = { retry, memo };
    session.blockAttempt = attempt;
    try {
      run(out);
    } finally {
      session.blockAttempt = undefined;
      memo = attempt.memo;
    }
    return waitOrReply(attempt, out.take());
  };
}

/**
 * Cluster: the command as a coordinated job on its slot (a quorum read, the slot's lease for the
 * pop, replicated as any write). The connection runs nothing else meanwhile, so the session's try
 * marker belongs to this command alone.
 */
export function coordinatedAttempt(session: SessionState, spec: CommandSpec, argv: Buffer[], startRun: (sink: ReplySink) => Promise<unknown> | void): Attempt {
  let memo: unknown;
  return async (retry) => {
    const capture = new CaptureSink(session.proto);
    const attempt: BlockAttempt = { retry, memo };
    session.blockAttempt = attempt;
    try {
      await startRun(capture);
    } finally {
      session.blockAttempt = undefined;
      memo = attempt.memo;
    }
    const bytes = await capture.collect();
    // The lease's holder may be another node for a moment, which ran the command as relayed (its
    // non-blocking form): its null answer means nothing to serve, so this client waits here.
    if (attempt.wait === undefined && isNullReply(bytes)) {
      const keys = keyPositions(spec, argv).map((i) => argv[i]!);
      if (spec.blockTimeoutMs !== undefined) {
        const timeoutMs = spec.blockTimeoutMs(argv);
        return timeoutMs === undefined ? waitOrReply(attempt, bytes) : { kind: 'wait', keys, timeoutMs };
      }
      const timeoutArg = spec.flags.includes('movablekeys') ? argv[1]! : argv[argv.length - 1]!;
      return { kind: 'wait', keys, timeoutMs: parseBlockTimeout(timeoutArg) };
    }
    return waitOrReply(attempt, bytes);
  };
}

/** A try that recorded a wait and wrote nothing blocks; anything it wrote (a pop, an error) is its answer. */
function waitOrReply(attempt: BlockAttempt, bytes: Buffer): AttemptResult {
  if (attempt.wait !== undefined && bytes.length === 0) return { kind: 'wait', keys: attempt.wait.keys, timeoutMs: attempt.wait.timeoutMs };
  return { kind: 'reply', bytes };
}

const NULL_REPLIES = ['*-1\r\n', '$-1\r\n', '_\r\n'].map((t) => Buffer.from(t));

function isNullReply(bytes: Buffer): boolean {
  return NULL_REPLIES.some((n) => n.equals(bytes));
}
