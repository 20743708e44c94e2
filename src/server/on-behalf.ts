/**
 * Commands a node runs on a client's behalf (MIGRATE's WATCH, DUMP, PTTL and MULTI/DEL/EXEC)
 * through its normal request path: routing, quorum reads and coordinated writes apply exactly as
 * to a client's own commands. They run in a session of their own, so they never wait behind the
 * client's held ones; one command's calls may share that session (a WATCH then holds until EXEC).
 */
import { ReplyReader, type Reply } from '../protocol/reply-reader.js';
import type { ReplySink } from './connection.js';
import type { SessionState } from './session-state.js';
import { CaptureSink, TransientSession } from './transient-session.js';
import { hideFromMonitors } from './monitor-feed.js';

export async function runOnBehalf(
  dispatch: (session: SessionState, argv: Buffer[], sink: ReplySink) => void,
  endBatch: (session: SessionState) => void,
  requests: Buffer[][],
  session: SessionState = new TransientSession(2, false, 'internal'),
): Promise<Reply[]> {
  hideFromMonitors(session);
  const sink = new CaptureSink(2);
  for (const argv of requests) dispatch(session, argv, sink);
  endBatch(session);
  const reader = new ReplyReader();
  reader.push(await sink.collect());
  const replies: Reply[] = [];
  for (let r = reader.next(); r !== undefined; r = reader.next()) replies.push(r);
  return replies;
}
