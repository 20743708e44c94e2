import { StringForm, ValueType, type Entry } from '../commands/keyspace.js';
import { parseInt64 } from '../commands/args.js';
import { decodeMeta } from './meta-codec.js';

/**
 * What OBJECT ENCODING answers, as Redis 7.0 would for the same commands: the per-element layout
 * is the same whatever the size, but clients and tests look at this. Collections remember in their
 * metadata whether they left the compact encoding (Redis never converts back).
 */
export function objectEncoding(e: Entry): string {
  switch (e.type) {
    case ValueType.String:
      return stringEncoding(e.value, e.form ?? StringForm.Compact);
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

/** Redis's longest string held in one allocation with its object header (OBJ_ENCODING_EMBSTR_SIZE_LIMIT). */
const EMBSTR_BYTES_MAX = 44;
/** Longest text Redis tries to read as a long (tryObjectEncoding). */
const INT_TEXT_BYTES_MAX = 20;

/**
 * A string's encoding as Redis 7.0 reports it: a client's value (Compact) is an int when it is a
 * canonical 64-bit integer, text the server formatted (Text) never is; a value changed in place
 * (Raw) stays raw, as dbUnshareStringValue leaves it.
 */
export function stringEncoding(value: Buffer, form: StringForm): 'int' | 'embstr' | 'raw' {
  if (form === StringForm.Raw) return 'raw';
  if (form === StringForm.Compact && value.length <= INT_TEXT_BYTES_MAX && parseInt64(value) !== undefined) return 'int';
  return value.length <= EMBSTR_BYTES_MAX ? 'embstr' : 'raw';
}

/** Elements of a collection, characters of a string. */
export function valueLength(e: Entry): number {
  return e.type === ValueType.String ? e.value.length : decodeMeta(e.value).size;
}
