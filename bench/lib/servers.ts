export type ServerName = 'redis' | 'ringkv';
export type ScenarioName = 'no-persistence' | 'durable';

export const SERVER_NAMES: readonly ServerName[] = ['redis', 'ringkv'];

export interface Scenario {
  name: ScenarioName;
  title: string;
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'no-persistence', title: 'no persistence' },
  { name: 'durable', title: 'durable (fsync every write)' },
];

export interface ServerLaunch {
  command: string;
  args: string[];
}

export interface ServerPaths {
  redisServer: string;
  nodeBinary: string;
  ringkvEntry: string;
  ringkvExtraArgs: readonly string[];
}

/**
 * How each server is started for each scenario. Both bind to loopback only and
 * get a fresh data directory, so no state leaks between runs.
 */
export function launchCommand(server: ServerName, scenario: ScenarioName, port: number, dir: string, paths: ServerPaths): ServerLaunch {
  if (server === 'redis') {
    const persistence =
      scenario === 'durable'
        ? ['--appendonly', 'yes', '--appendfsync', 'always']
        : ['--appendonly', 'no'];
    return {
      command: paths.redisServer,
      args: [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--dir', dir,
        '--daemonize', 'no',
        '--logfile', '',
        // An empty save schedule disables RDB snapshots; otherwise they would fork mid-run.
        '--save', '',
        ...persistence,
      ],
    };
  }
  return {
    command: paths.nodeBinary,
    args: [
      paths.ringkvEntry,
      'server',
      '--port', String(port),
      '--dir', dir,
      '--appendfsync', scenario === 'durable' ? 'always' : 'no',
      ...paths.ringkvExtraArgs,
    ],
  };
}
