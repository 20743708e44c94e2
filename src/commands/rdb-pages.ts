/**
 * What the writers of large collections in a snapshot share (rdb-large-collection.ts,
 * rdb-large-stream.ts): the page size and the error that ends a transfer whose collection is no
 * longer what its count said.
 */

/** Elements per page; the event loop runs other commands between pages. */
export const PAGE_ELEMENTS = 1024;

export type Kind = 'set' | 'zset' | 'hash' | 'list' | 'stream';

/** Why a transfer ends: the collection is not what its count, written first, said. */
export function changed(kind: Kind, key: Buffer, what: string): Error {
  return new Error(`the ${kind} ${key.toString('latin1').slice(0, 64)} ${what}`);
}
