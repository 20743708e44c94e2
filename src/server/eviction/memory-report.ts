import fs from 'node:fs';

/**
 * The process's anonymous resident memory (heap, buffers, caches): Linux's RssAnon. LMDB's pages
 * are file-backed and reclaimable by the kernel, so they are left out; that is why INFO reports
 * this as used_memory_rss instead of the whole resident set. Falls back to the resident set where
 * /proc is not there.
 */
export function anonymousMemoryBytes(): number {
  try {
    const status = fs.readFileSync('/proc/self/status', 'latin1');
    const m = /^RssAnon:\s+(\d+)\s+kB/m.exec(status);
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not Linux: the resident set is the closest figure.
  }
  return process.memoryUsage().rss;
}

/** Redis's bytesToHuman: `123B`, `1.50K`, `100.00M` … */
export function bytesToHuman(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  const units = ['K', 'M', 'G', 'T', 'P'];
  let v = bytes;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}
