/** Redis's memory notation: a count of bytes with an optional unit (`k` = 1000, `kb` = 1024, …). */
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1024, m: 1000 ** 2, mb: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3 };

/** Bytes `text` names (`512mb`, `1gb`, `100`; a leading `-` only when `signed`); undefined when malformed. */
export function parseMemory(text: string, signed = false): number | undefined {
  const m = (signed ? /^(-?\d+)([a-z]*)$/i : /^(\d+)([a-z]*)$/i).exec(text);
  if (!m) return undefined;
  const unit = UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}
