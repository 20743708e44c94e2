/**
 * Client results put into the form the string model predicts (`asClientValue`): values as they
 * are, errors as `{ error: message }`.
 */
export type ClientValue = string | number | null | { error: string } | ClientValue[] | Record<string, string>;

/** ioredis `pipeline().exec()` / `multi().exec()` entries. */
export function fromIoredis(entries: Array<[Error | null, unknown]> | null): ClientValue[] | null {
  if (entries === null) return null;
  return entries.map(([err, v]) => (err ? { error: err.message } : (v as ClientValue)));
}

/** Settled promises (node-redis and ioredis single commands issued together). */
export async function settle(promises: Array<Promise<unknown>>): Promise<ClientValue[]> {
  const settled = await Promise.allSettled(promises);
  return settled.map((s) => (s.status === 'fulfilled' ? (s.value as ClientValue) : { error: (s.reason as Error).message }));
}
