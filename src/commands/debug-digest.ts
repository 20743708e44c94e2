/**
 * DEBUG DIGEST and DEBUG DIGEST-VALUE with Redis 7.0's algorithm (debug.c), so a digest taken here
 * equals redis-server's for the same data and test suites can compare the two:
 *
 *   xorDigest(d, data):  d ^= SHA1(data)                   order-independent parts
 *   mixDigest(d, data):  d = SHA1(d ^ SHA1(data))          ordered parts
 *
 * A value's digest mixes its type (Redis's OBJ_* code as 4 big-endian bytes), then its content:
 * a string's bytes; list elements mixed in order; set members xored; for each sorted-set member
 * and each hash field a digest of its own (mix member then `%.17g` score, mix field then value)
 * xored in; stream entries mixed in id order as "<ms>.<seq>" then each field and value (consumer
 * groups and stream counters are left out, as Redis leaves them out). A key with a TTL then xors
 * in "!!expire!!": the expiry time itself is not part of the digest. DEBUG DIGEST starts from
 * mix(db index 0) when the dataset is not empty and xors in, for every key, the digest of mix(key)
 * followed by its value's; an empty dataset and a missing key digest to 40 zeros.
 *
 * Collections are read through their streaming scans (LocalKeyspace reads them in bounded chunks),
 * and fragmented strings fragment by fragment, so memory stays bounded whatever the sizes.
 * Differences from Redis: a key past its TTL that Redis has not reclaimed yet still counts there
 * (its DEBUG reads the dict directly); here every read drops it, so it never counts.
 */
import { createHash } from 'node:crypto';
import { ValueType, type Entry, type Keyspace } from './keyspace.js';
import type { CommandContext } from './spec.js';
import { ListType } from '../collections/list-type.js';
import { SetType } from '../collections/set-type.js';
import { ZSetType } from '../collections/zset-type.js';
import { HashType } from '../collections/hash-type.js';
import { StreamType } from '../collections/stream-type.js';
import { entryFields } from '../collections/stream-codec.js';
import { MAX_ID, MIN_ID } from '../collections/stream-id.js';
import { StringValue } from '../strings/fragmented-string.js';
import { formatScore } from './score-text.js';
import { eachListedKey } from './keys.js';
import type { DebugSubcommand } from './debug-help.js';

const DIGEST_BYTES = 20;
const EXPIRE_MARK = Buffer.from('!!expire!!');
/** Zeros fed to SHA1 at most this many at a time (a fragmented string's unwritten runs). */
const ZERO_RUN = Buffer.alloc(64 * 1024);

/** Redis's OBJ_STRING … OBJ_STREAM codes, which its digest mixes in. */
const OBJ_TYPE: Record<Entry['type'], number> = {
  [ValueType.String]: 0,
  [ValueType.FragmentedString]: 0,
  [ValueType.List]: 1,
  [ValueType.Set]: 2,
  [ValueType.ZSet]: 3,
  [ValueType.Hash]: 4,
  [ValueType.Stream]: 6,
};

function sha1(data: Buffer | string): Buffer {
  return createHash('sha1').update(data).digest();
}

function xorHash(digest: Buffer, hash: Buffer): void {
  for (let i = 0; i < DIGEST_BYTES; i++) digest[i]! ^= hash[i]!;
}

function mixHash(digest: Buffer, hash: Buffer): void {
  xorHash(digest, hash);
  sha1(digest).copy(digest);
}

function xorDigest(digest: Buffer, data: Buffer | string): void {
  xorHash(digest, sha1(data));
}

function mixDigest(digest: Buffer, data: Buffer | string): void {
  mixHash(digest, sha1(data));
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** SHA1 of a fragmented string, fed fragment by fragment (unwritten runs as zeros). */
function fragmentedSha1(ks: Keyspace, key: Buffer): Buffer {
  const h = createHash('sha1');
  const s = StringValue.open(ks, key)!;
  s.chunks(0, s.length, (_at, bytes, length) => {
    if (bytes !== undefined) h.update(bytes);
    else for (let left = length; left > 0; left -= ZERO_RUN.length) h.update(ZERO_RUN.subarray(0, Math.min(left, ZERO_RUN.length)));
    return true;
  });
  return h.digest();
}

/** Mixes the value of `key` (a live entry) into `digest`: Redis's xorObjectDigest. */
function mixValue(ks: Keyspace, key: Buffer, e: Entry, digest: Buffer): void {
  mixDigest(digest, u32(OBJ_TYPE[e.type]));
  switch (e.type) {
    case ValueType.String:
      mixDigest(digest, e.value);
      break;
    case ValueType.FragmentedString:
      mixHash(digest, fragmentedSha1(ks, key));
      break;
    case ValueType.List: {
      const list = ListType.open(ks, key)!;
      list.scan(0, list.length, (value) => (mixDigest(digest, value), true));
      break;
    }
    case ValueType.Set:
      SetType.open(ks, key)!.scan((member) => (xorDigest(digest, member), true));
      break;
    case ValueType.ZSet:
      ZSetType.open(ks, key)!.entries((member, score) => {
        const element = Buffer.alloc(DIGEST_BYTES);
        mixDigest(element, member);
        mixDigest(element, formatScore(score));
        xorDigest(digest, element);
      });
      break;
    case ValueType.Hash:
      HashType.open(ks, key)!.scan((field, value) => {
        const element = Buffer.alloc(DIGEST_BYTES);
        mixDigest(element, field);
        mixDigest(element, value);
        xorDigest(digest, element);
        return true;
      });
      break;
    case ValueType.Stream:
      StreamType.open(ks, key)!.scan(MIN_ID, MAX_ID, false, (id, value) => {
        mixDigest(digest, `${id.ms}.${id.seq}`);
        for (const part of entryFields(value)) mixDigest(digest, part);
        return true;
      });
      break;
  }
  if (e.expiresAt !== 0) xorDigest(digest, EXPIRE_MARK);
}

/** The digest of one key's value; zeros when the key is missing. */
export function valueDigest(ks: Keyspace, key: Buffer): Buffer {
  const digest = Buffer.alloc(DIGEST_BYTES);
  const e = ks.get(key);
  if (e !== undefined) mixValue(ks, key, e, digest);
  return digest;
}

/** DEBUG DIGEST: the whole dataset's digest. */
export function datasetDigest(ctx: CommandContext): Buffer {
  const keys = Buffer.alloc(DIGEST_BYTES);
  let any = false;
  // The keys this node lists (keys.ts), so in a cluster the digest covers the slots it is primary
  // for, as a Redis Cluster master's covers its own.
  eachListedKey(ctx, (key) => {
    const e = ctx.ks.get(key);
    if (e === undefined) return;
    const digest = Buffer.alloc(DIGEST_BYTES);
    mixDigest(digest, key);
    mixValue(ctx.ks, key, e, digest);
    xorDigest(keys, digest);
    any = true;
  });
  const final = Buffer.alloc(DIGEST_BYTES);
  if (!any) return final;
  // Redis mixes in the db index before xoring in the keys of a non-empty db; ringkv has db 0 only.
  mixDigest(final, u32(0));
  xorHash(final, keys);
  return final;
}

function hex(digest: Buffer): string {
  return digest.toString('hex');
}

/**
 * DEBUG subcommands of this module. Keys are not declared (Redis's DEBUG has none), so a cluster
 * runs them where they are sent: on the keys that node holds.
 */
export const debugDigestSubcommands: DebugSubcommand[] = [
  {
    name: 'digest', arity: 2, flags: ['admin'],
    run: (c) => c.out.simple(hex(datasetDigest(c))),
  },
  {
    name: 'digest-value', arity: -2, flags: ['admin'],
    run: (c, a) => {
      c.out.arrayHeader(a.length - 2);
      for (const key of a.slice(2)) c.out.simple(hex(valueDigest(c.ks, key)));
    },
  },
];
