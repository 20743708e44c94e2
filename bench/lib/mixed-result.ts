/** What the mixed-slot load generator (`mixedload.ts`) prints: one JSON line at the end of a run. */

/** `fill` SETs every key of the keyspace once; `set` and `get` send random keys. */
export type MixedTest = 'set' | 'get' | 'fill';

export interface MixedLoadResult {
  type: 'result';
  test: MixedTest;
  /** Replies received, errors included. */
  requests: number;
  ok: number;
  errors: number;
  /** Nil replies (GET of a key that does not exist): 0 after a fill, else the GETs were cheaper than meant. */
  misses: number;
  /** Distinct error replies (redirects with the slot masked) and how often each came. */
  errorSamples: Array<[string, number]>;
  /** From the first command sent to the last reply. */
  seconds: number;
  /** Successful replies per second. */
  rps: number;
  p50Ms: number | null;
  p99Ms: number | null;
  avgMs: number | null;
  connections: number;
  depth: number;
  /** The nodes the connections were spread over ("host:port"). */
  nodes: string[];
}

export function parseMixedLoadResult(stdout: string): MixedLoadResult | null {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as { type?: unknown };
      if (value.type === 'result') return value as MixedLoadResult;
    } catch {
      // Not the result line.
    }
  }
  return null;
}
