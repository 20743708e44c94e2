import type { CommandDoc } from './command-docs.js';

/**
 * COMMAND DOCS for what ringkv registers and Redis 7.0 does not document: ringkv's own commands
 * and the few Redis 7.2 subcommands ringkv already answers. Same fields, in the order Redis sends
 * them (summary, since, group, complexity, doc_flags, …, arguments; per argument name, type,
 * key_spec_index, token, …, flags, arguments). ringkv's own commands have no `since`: it would be
 * read as a Redis version.
 */
export const OWN_DOCS: Readonly<Record<string, CommandDoc>> = {
  'client|no-touch': {
    summary: 'Controls whether commands sent by the client affect the LRU/LFU of accessed keys',
    since: '7.2.0', group: 'connection', complexity: 'O(1)',
    arguments: [{ name: 'enabled', type: 'oneof', arguments: [{ name: 'on', type: 'pure-token', token: 'ON' }, { name: 'off', type: 'pure-token', token: 'OFF' }] }],
  },
  'client|setinfo': {
    summary: 'Set client or connection specific info',
    since: '7.2.0', group: 'connection', complexity: 'O(1)',
    arguments: [{ name: 'attr', type: 'oneof', arguments: [{ name: 'libname', type: 'string', token: 'LIB-NAME' }, { name: 'libver', type: 'string', token: 'LIB-VER' }] }],
  },
  'cluster|myshardid': { summary: 'Return the node shard id', since: '7.2.0', group: 'cluster', complexity: 'O(1)' },
  'cluster|myself': { summary: "Return this node's line of CLUSTER NODES", group: 'cluster', complexity: 'O(N) where N is the number of slot ranges the node serves' },
  'ringkv.consistency': {
    summary: 'Set or reset the read and write quorums of the current connection, and return them',
    group: 'connection', complexity: 'O(1)',
    arguments: [{
      name: 'setting', type: 'oneof', flags: ['optional'],
      arguments: [
        { name: 'quorums', type: 'block', arguments: [{ name: 'r', type: 'integer', token: 'R', flags: ['optional'] }, { name: 'w', type: 'integer', token: 'W', flags: ['optional'] }] },
        { name: 'reset', type: 'pure-token', token: 'RESET' },
      ],
    }],
  },
  'ringkv.digest': {
    summary: 'Return the anti-entropy digest of the slots this node replicates, of one slot or of each slot of a range, or the records of one slot',
    group: 'cluster', complexity: 'O(1) for one digest, O(N) for N slots of a range or N records of a slot',
    arguments: [{
      name: 'target', type: 'oneof', flags: ['optional'],
      arguments: [
        { name: 'slot', type: 'integer' },
        { name: 'range', type: 'block', arguments: [{ name: 'start', type: 'integer', token: 'RANGE' }, { name: 'end', type: 'integer' }] },
        { name: 'records', type: 'integer', token: 'RECORDS' },
      ],
    }],
  },
  'ringkv.leave': { summary: "Take this node off the ring; the other nodes take over its slots", group: 'cluster', complexity: 'O(1)' },
};
