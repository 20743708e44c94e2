import { it } from 'vitest';
import { runProductSim } from './product/run.js';
it('trace', async () => {
  const lines: string[] = [];
  const r = await runProductSim({ seed: Number(process.env.S ?? 3), nodes: Number(process.env.N ?? 3) as 3 | 5, traceKey: process.env.K ?? '', trace: (l) => lines.push(l) });
  console.log(lines.filter((l) => !/ -> .*\(none\)$/.test(l)).join('\n'));
  console.log(r.violations.map((v) => v.kind + ' ' + v.text).join('\n'));
}, 120000);
