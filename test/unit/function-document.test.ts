import { describe, expect, it } from 'vitest';
import { emptyDocument, holdsNewer, isFunctionDocument, liveLibraries, mergeDocument, recordLocalChange, summarize } from '../../src/scripting/function-document.js';

describe('the cluster function document', () => {
  it('records loads, replacements and deletions, stamped after every entry it holds', () => {
    const doc = emptyDocument();
    expect(recordLocalChange(doc, new Map(), new Map([['a', 'QQ==']]), 100, 'n1')).toBe(true);
    expect(doc.libs.a).toEqual({ ms: 100, node: 'n1', code: 'QQ==' });
    // A clock behind the newest entry still stamps later.
    expect(recordLocalChange(doc, new Map([['a', 'QQ==']]), new Map(), 50, 'n2')).toBe(true);
    expect(doc.libs.a).toEqual({ ms: 101, node: 'n2' });
    expect(recordLocalChange(doc, new Map(), new Map(), 200, 'n1')).toBe(false);
  });

  it('merges entry by entry: concurrent loads of two libraries both stay; the newest entry of one library wins', () => {
    const a = emptyDocument();
    const b = emptyDocument();
    recordLocalChange(a, new Map(), new Map([['left', 'TA==']]), 100, 'n1');
    recordLocalChange(b, new Map(), new Map([['right', 'Ug==']]), 100, 'n2');
    expect(mergeDocument(a, b)).toEqual(['right']);
    expect(mergeDocument(b, a)).toEqual(['left']);
    expect(a).toEqual(b);
    recordLocalChange(b, new Map([['left', 'TA==']]), new Map(), 90, 'n2');
    expect(mergeDocument(a, b)).toEqual(['left']);
    expect(liveLibraries(a).map((l) => l.name)).toEqual(['right']);
    expect(mergeDocument(a, b)).toEqual([]);
  });

  it('a summary tells who holds something newer; live libraries come newest first', () => {
    const a = emptyDocument();
    recordLocalChange(a, new Map(), new Map([['x', 'eA==']]), 100, 'n1');
    recordLocalChange(a, new Map(), new Map([['y', 'eQ==']]), 100, 'n1');
    expect(liveLibraries(a).map((l) => l.name)).toEqual(['y', 'x']);
    expect(holdsNewer(a, summarize(a))).toBe(false);
    expect(holdsNewer(a, {})).toBe(true);
    expect(holdsNewer(a, { x: [100, 'n1'] })).toBe(true);
    expect(holdsNewer(emptyDocument(), summarize(a))).toBe(false);
  });

  it('refuses malformed documents from peers', () => {
    expect(isFunctionDocument({ libs: { a: { ms: 1, node: 'n', code: 'QQ==' } } })).toBe(true);
    for (const bad of [null, {}, { libs: [] }, { libs: { a: { ms: -1, node: 'n' } } }, { libs: { a: { ms: 1, node: 5 } } }, { libs: { a: { ms: 1, node: 'n', code: 3 } } }]) {
      expect(isFunctionDocument(bad)).toBe(false);
    }
  });
});
