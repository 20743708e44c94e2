import { ValueType, type Entry } from '../commands/keyspace.js';
import { parseInt64 } from '../commands/args.js';
import { decodeMeta } from './meta-codec.js';

/**
 * What OBJECT ENCODING answers, as Redis 7.0 would for the same commands: the per-element layout
 * is the same whatever the size, but clients and tests look at this. Collections remember in their
 * metadata whether they left the compact encoding (Redis never converts back).
 */
export function objectEncoding(e: Entry): string {
  switch (e.type) {
    case ValueType.String: {
      const v = e.value;
      if (v.length <= 20 && parseInt64(v) !== undefined) return 'int';
      return v.length <= 44 ? 'embstr' : 'raw';
    }
    case ValueType.Hash:
      return decodeMeta(e.value).large ? 'hashtable' : 'listpack';
    case ValueType.List:
      return 'quicklist';
    case ValueType.Set:
      return decodeMeta(e.value).large ? 'hashtable' : 'intset';
    case ValueType.ZSet:
      return decodeMeta(e.value).large ? 'skiplist' : 'listpack';
    case ValueType.Stream:
      return 'stream';
    case ValueType.FragmentedString:
      return 'raw';
  }
}

/** Elements of a collection, characters of a string. */
export function valueLength(e: Entry): number {
  return e.type === ValueType.String ? e.value.length : decodeMeta(e.value).size;
}
