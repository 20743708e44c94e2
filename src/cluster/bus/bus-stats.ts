interface TypeCounters {
  sentMessages: number;
  sentBytes: number;
  receivedMessages: number;
  receivedBytes: number;
}

/**
 * Counters for INFO. A response counts under its request's type, on both sides. Per-type entries exist only for types this node sends or handles, so a peer
 * sending made-up types cannot grow the table.
 */
/** Stats bucket for frames whose type this node does not handle. */
export const UNKNOWN_TYPE = '_unknown';

export class BusCounters {
  authFailures = 0;
  protocolErrors = 0;
  requestsTimedOut = 0;
  /** Requests refused before sending: queue full, too many pending, unreachable peer in backoff. */
  requestsRefused = 0;
  /** One-way messages not queued: unreachable peer, full queue, unencodable payload. */
  messagesDropped = 0;
  unknownMessages = 0;
  handlerErrors = 0;
  private readonly byType = new Map<string, TypeCounters>();

  sent(type: string, bytes: number): void {
    const c = this.forType(type);
    c.sentMessages++;
    c.sentBytes += bytes;
  }

  received(type: string, bytes: number): void {
    const c = this.forType(type);
    c.receivedMessages++;
    c.receivedBytes += bytes;
  }

  snapshot(): Record<string, number> {
    const out: Record<string, number> = {
      auth_failures: this.authFailures,
      protocol_errors: this.protocolErrors,
      requests_timed_out: this.requestsTimedOut,
      requests_refused: this.requestsRefused,
      messages_dropped: this.messagesDropped,
      unknown_messages: this.unknownMessages,
      handler_errors: this.handlerErrors,
      sent_messages: 0,
      sent_bytes: 0,
      received_messages: 0,
      received_bytes: 0,
    };
    for (const [type, c] of this.byType) {
      out[`sent_messages_${type}`] = c.sentMessages;
      out[`sent_bytes_${type}`] = c.sentBytes;
      out[`received_messages_${type}`] = c.receivedMessages;
      out[`received_bytes_${type}`] = c.receivedBytes;
      out.sent_messages! += c.sentMessages;
      out.sent_bytes! += c.sentBytes;
      out.received_messages! += c.receivedMessages;
      out.received_bytes! += c.receivedBytes;
    }
    return out;
  }

  private forType(type: string): TypeCounters {
    let c = this.byType.get(type);
    if (c === undefined) {
      c = { sentMessages: 0, sentBytes: 0, receivedMessages: 0, receivedBytes: 0 };
      this.byType.set(type, c);
    }
    return c;
  }
}
