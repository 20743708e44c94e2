/**
 * Fixed edge-case lists per family for fixed.ts: each case is there because ringkv once answered
 * it differently from Redis 7.0, or sits next to one that did.
 */
import { c, checked, type FixedCases } from './fixed.js';

const SCAN = { kind: 'scan', pairs: false } as const;
const SCAN_PAIRS = { kind: 'scan', pairs: true } as const;

/** GETEX options: the same one twice is taken (the last counts), two different ones are not; LCS's size limit. */
export const stringCases: FixedCases = (k) => [
  c('SET', k('g'), 'v'),
  c('GETEX', k('g'), 'EX', '100', 'EX', '200'),
  c('TTL', k('g')),
  c('GETEX', k('g'), 'PX', '5000', 'PX', '100000'),
  c('GETEX', k('g'), 'PERSIST', 'PERSIST'),
  c('TTL', k('g')),
  c('GETEX', k('g'), 'PERSIST', 'EX', '10'),
  c('GETEX', k('g'), 'EX', '10', 'PERSIST'),
  c('GETEX', k('g'), 'EX', '10', 'PX', '10'),
  c('GETEX', k('g'), 'EXAT', '1', 'EXAT', '0'),
  c('GETEX', k('missing'), 'EX', '10', 'EX', '10'),
  c('GETEX', k('missing'), 'PERSIST', 'PERSIST'),
  c('GETEX', k('missing'), 'PERSIST', 'EX', '10'),
  c('SET', k('s'), 'v', 'EX', '10', 'EX', '20', 'GET'),
  c('SET', k('s'), 'v', 'NX', 'NX'),
  c('SET', k('s'), 'v', 'XX', 'XX', 'KEEPTTL', 'KEEPTTL'),
  c('SET', k('s'), 'v', 'EX', '10', 'KEEPTTL'),
  c('SET', k('s'), 'v', 'NX', 'XX'),
  // LCS's table is 4 bytes a cell: Redis refuses one above proto-max-bulk-len (512 MB) by name.
  c('SET', k('lcs1'), 'a'.repeat(11585)),
  c('SET', k('lcs2'), 'b'.repeat(11585)),
  c('LCS', k('lcs1'), k('lcs2')),
  c('LCS', k('lcs1'), k('lcs2'), 'LEN'),
  c('LCS', k('lcs1'), k('lcs2'), 'LEN', 'IDX'),
];

/**
 * Cursors as Redis reads them (strtoul): a sign is taken and "-1" wraps, the empty string is 0,
 * above 2^64-1 and anything with a space or a letter is "invalid cursor", checked before the options.
 */
export const keyCases: FixedCases = (k) => [
  c('SADD', k('set'), '1', '2', '3'),
  c('HSET', k('hash'), 'f', 'v'),
  c('ZADD', k('zset'), '1', 'm'),
  checked(SCAN, 'SSCAN', k('set'), '-1'),
  checked(SCAN, 'SSCAN', k('set'), '+1'),
  checked(SCAN, 'SSCAN', k('set'), ''),
  checked(SCAN, 'SSCAN', k('set'), '18446744073709551615'),
  c('SSCAN', k('set'), '18446744073709551616'),
  c('SSCAN', k('set'), ' 1'),
  c('SSCAN', k('set'), '1e3'),
  c('SSCAN', k('set'), '-'),
  c('SSCAN', k('set'), '0x10'),
  checked(SCAN_PAIRS, 'HSCAN', k('hash'), '-5'),
  checked(SCAN_PAIRS, 'HSCAN', k('hash'), '+0'),
  c('HSCAN', k('hash'), '99999999999999999999'),
  checked(SCAN_PAIRS, 'ZSCAN', k('zset'), '-0'),
  c('ZSCAN', k('zset'), '1 '),
  c('SSCAN', k('missing'), '-1'),
  c('SSCAN', k('missing'), '18446744073709551616'),
  checked(SCAN, 'SCAN', '', 'MATCH', k('nomatch*'), 'COUNT', '1000'),
  checked(SCAN, 'SCAN', '0', 'MATCH', k('nomatch*'), 'COUNT', '9223372036854775807'),
  c('SCAN', '18446744073709551616'),
  c('SCAN', 'abc', 'COUNT', '0'),
  c('SCAN', 'x', 'y', 'z'),
  c('SCAN', ' 0'),
  c('SCAN', '0', 'COUNT', '0'),
  c('SCAN', '0', 'COUNT', 'x'),
];

/** LPOS: a non-integer COUNT or MAXLEN gets the "can't be negative" text; RANK LONG_MIN acts as -1. */
export const listCases: FixedCases = (k) => [
  c('RPUSH', k('l'), 'a', 'b', 'c', 'a', 'b', 'a', 'c'),
  c('LPOS', k('l'), 'a', 'COUNT', 'abc'),
  c('LPOS', k('l'), 'a', 'MAXLEN', 'abc'),
  c('LPOS', k('l'), 'a', 'COUNT', '1.5'),
  c('LPOS', k('l'), 'a', 'MAXLEN', '99999999999999999999'),
  c('LPOS', k('missing'), 'a', 'COUNT', 'abc'),
  c('LPOS', k('l'), 'a', 'RANK', 'abc'),
  c('LPOS', k('l'), 'a', 'RANK', '0'),
  c('LPOS', k('l'), 'a', 'RANK', '-9223372036854775808'),
  c('LPOS', k('l'), 'a', 'RANK', '-9223372036854775808', 'COUNT', '0'),
  c('LPOS', k('l'), 'a', 'RANK', '-9223372036854775808', 'COUNT', '2', 'MAXLEN', '3'),
  c('LPOS', k('l'), 'a', 'RANK', '-9223372036854775807'),
  c('LPOS', k('l'), 'a', 'RANK', '9223372036854775807', 'COUNT', '0'),
  c('LPOS', k('l'), 'a', 'RANK', '1', 'RANK', '-2', 'COUNT', '5', 'COUNT', '0'),
];

/** XCLAIM RETRYCOUNT is any long long: Redis keeps it in a uint64_t and replies it signed. */
export const streamCases: FixedCases = (k) => {
  // XPENDING's idle times differ between the servers: compared within a tolerance.
  const pending = (): ReturnType<typeof c> => checked({ kind: 'stream', tolerance: 5000, idleAt: 2 }, 'XPENDING', k('s'), 'g', '-', '+', '10');
  return [
    c('XADD', k('s'), '1-1', 'f', 'v'),
    c('XADD', k('s'), '2-1', 'f', 'v'),
    c('XGROUP', 'CREATE', k('s'), 'g', '0'),
    c('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', k('s'), '>'),
    c('XCLAIM', k('s'), 'g', 'c', '0', '1-1', 'RETRYCOUNT', '-1', 'JUSTID'),
    pending(),
    c('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', k('s'), '0'),
    pending(),
    c('XCLAIM', k('s'), 'g', 'c', '0', '2-1', 'RETRYCOUNT', '9223372036854775807', 'JUSTID'),
    c('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', k('s'), '0'),
    pending(),
    c('XCLAIM', k('s'), 'g', 'c', '0', '1-1', 'RETRYCOUNT', 'x'),
    // A tombstone trimmed away (max-deleted-entry-id before the first entry) no longer makes a
    // group's entries-read unusable: XINFO GROUPS' lag is entries-added minus entries-read again.
    c('XADD', k('t'), '1-0', 'f', 'v'),
    c('XADD', k('t'), '2-0', 'f', 'v'),
    c('XADD', k('t'), '3-0', 'f', 'v'),
    c('XADD', k('t'), '4-0', 'f', 'v'),
    c('XGROUP', 'CREATE', k('t'), 'g1', '0', 'ENTRIESREAD', '2'),
    c('XGROUP', 'CREATE', k('t'), 'g2', '0'),
    c('XREADGROUP', 'GROUP', 'g2', 'c', 'COUNT', '1', 'STREAMS', k('t'), '>'),
    c('XDEL', k('t'), '2-0'),
    c('XINFO', 'GROUPS', k('t')),
    c('XTRIM', k('t'), 'MAXLEN', '1'),
    c('XINFO', 'GROUPS', k('t')),
    c('XREADGROUP', 'GROUP', 'g2', 'c', 'STREAMS', k('t'), '>'),
    c('XINFO', 'GROUPS', k('t')),
    c('XADD', k('t'), '5-0', 'f', 'v'),
    c('XDEL', k('t'), '5-0'),
    c('XINFO', 'GROUPS', k('t')),
    c('XTRIM', k('t'), 'MINID', '9'),
    c('XADD', k('t'), '6-0', 'f', 'v'),
    c('XINFO', 'GROUPS', k('t')),
    // `ms-*` where ms's sequences are used up: Redis answers its generic XADD error.
    c('XADD', k('u'), '1-18446744073709551615', 'f', 'v'),
    c('XADD', k('u'), '1-*', 'f', 'v'),
    c('XADD', k('u'), '0-*', 'f', 'v'),
    c('XADD', k('u'), '2-*', 'f', 'v'),
    c('XADD', k('u'), '2-18446744073709551615', 'f', 'v'),
    c('XADD', k('u'), 'MAXLEN', '1', '2-*', 'f', 'v'),
    c('XADD', k('u'), '18446744073709551615-18446744073709551615', 'f', 'v'),
    c('XADD', k('u'), '18446744073709551615-*', 'f', 'v'),
    c('XLEN', k('u')),
  ];
};

/**
 * HRANDFIELD / SRANDMEMBER / ZRANDMEMBER on a missing key: an empty array for any count Redis
 * accepts (down to -LONG_MAX), however many picks it asks for; the range checks come first.
 */
const HUGE_COUNTS = ['-9223372036854775807', '-9007199254740993', '-4611686018427387904', '-4611686018427387903', '9223372036854775807', '-9223372036854775808'];

export const hashCases: FixedCases = (k) => [
  ...HUGE_COUNTS.flatMap((n) => [c('HRANDFIELD', k('missing'), n), c('HRANDFIELD', k('missing'), n, 'WITHVALUES')]),
  c('HSET', k('h'), 'f', 'v'),
  c('HRANDFIELD', k('h'), '-4611686018427387904', 'WITHVALUES'),
  c('HRANDFIELD', k('h'), '4611686018427387904', 'WITHVALUES'),
  c('HRANDFIELD', k('h'), '9223372036854775807'),
  c('HRANDFIELD', k('h'), '-9223372036854775808'),
];

export const setCases: FixedCases = (k) => [
  ...HUGE_COUNTS.map((n) => c('SRANDMEMBER', k('missing'), n)),
  c('SADD', k('s'), '1'),
  c('SRANDMEMBER', k('s'), '9223372036854775807'),
  c('SRANDMEMBER', k('s'), '-9223372036854775808'),
];

export const zsetCases: FixedCases = (k) => [
  ...HUGE_COUNTS.flatMap((n) => [c('ZRANDMEMBER', k('missing'), n), c('ZRANDMEMBER', k('missing'), n, 'WITHSCORES')]),
  c('ZADD', k('z'), '1', 'm'),
  c('ZRANDMEMBER', k('z'), '-4611686018427387904', 'WITHSCORES'),
  c('ZRANDMEMBER', k('z'), '9223372036854775807', 'WITHSCORES'),
  c('ZRANDMEMBER', k('z'), '-9223372036854775808'),
];
