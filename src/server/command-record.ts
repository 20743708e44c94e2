import type { Config } from '../core/config.js';
import { callName, type CommandSpec } from '../commands/spec.js';
import { familyIndex } from './command-family.js';
import type { SessionState } from './session-state.js';
import type { ServerStats } from './stats.js';

/**
 * What one run of a command leaves behind, as Redis's call() records it: INFO commandstats (per
 * subcommand, as cmdstat_config|get), the latency histogram, LATENCY events and SLOWLOG. Commands a
 * script runs through redis.call are recorded too, each under its own name, as Redis records them.
 * `local`: the run was the command's whole work (a step of a coordinated run is timed with its run).
 */
export function recordCommandRun(
  stats: ServerStats, config: Config, session: SessionState, spec: CommandSpec, argv: Buffer[], ms: number, failed: boolean, local: boolean,
): void {
  const usec = Math.floor(ms * 1000);
  stats.noteCommand(callName(spec, argv), usec, failed, Math.round(ms * 1e6));
  if (local) stats.commandLatency.observe(familyIndex(spec), ms / 1000);
  // LATENCY: Redis's command events, in whole milliseconds at or above latency-monitor-threshold.
  if (usec >= stats.latencyThresholdUsec) stats.latencyEvents.add(spec.flags.includes('fast') ? 'fast-command' : 'command', Math.floor(usec / 1000), Date.now());
  // EXEC is skip_slowlog: the commands it ran are logged one by one instead, as in Redis.
  const threshold = config.int('slowlog-log-slower-than');
  if (threshold >= 0 && usec >= threshold && !spec.flags.includes('skip_slowlog')) stats.slowlog.add(argv, usec, session.addr, session.name, config.int('slowlog-max-len'));
}
