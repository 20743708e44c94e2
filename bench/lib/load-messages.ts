/** What the load generator (`loadgen.ts`) prints, one JSON object per line, and its parser. */
import type { SparseHistogram } from './histogram.js';

export type LoadMix = 'set' | 'get' | 'set,get';

export interface LoadSlice {
  type: 'slice';
  t0: number;
  t1: number;
  set: SparseHistogram;
  get: SparseHistogram;
  errSet: number;
  errGet: number;
  errors: string[];
}

export interface LoadReady {
  type: 'ready';
  t: number;
}

export interface LoadEnd {
  type: 'end';
  t: number;
}

export type LoadMessage = LoadSlice | LoadReady | LoadEnd;

export function parseLoadMessage(line: string): LoadMessage | null {
  if (!line.startsWith('{')) return null;
  try {
    const value = JSON.parse(line) as { type?: unknown };
    if (value.type === 'slice' || value.type === 'ready' || value.type === 'end') return value as LoadMessage;
  } catch {
    // Not a report line.
  }
  return null;
}
