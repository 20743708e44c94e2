/** RESP protocol version a connection speaks (HELLO switches it). */
export type Protocol = 2 | 3;

/**
 * Limits the request parser enforces. Names and defaults follow redis.conf / server.h so that a
 * client breaking one sees the same behaviour as with Redis.
 */
export interface ParserLimits {
  /** `proto-max-bulk-len`: largest bulk argument in bytes (Redis: 512 MiB). */
  maxBulkLen: number;
  /** PROTO_INLINE_MAX_SIZE: longest inline line and longest `*n` / `$n` header line (64 KiB). */
  maxInlineLen: number;
  /** Largest `*<count>` accepted from an authenticated client (Redis 7: INT_MAX). */
  maxMultibulkCount: number;
  /** `client-query-buffer-limit`: unparsed bytes a connection may hold before it is closed without reply. */
  maxQueryBuffer: number;
}

/** Outcome of asking the parser for the next request. */
export type ParseResult =
  | { kind: 'command'; argv: Buffer[] }
  /** Not enough bytes buffered yet for a whole request. */
  | { kind: 'incomplete' }
  /** Redis-worded protocol error: reply `-ERR Protocol error: <message>` then close. */
  | { kind: 'protocol-error'; message: string }
  /** Close the connection without any reply (query buffer limit, cross-protocol attack). */
  | { kind: 'close'; reason: string };
