#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './core/config.js';
import { StartupError, UsageError, startupMessage } from './core/startup-error.js';
import { RINGKV_VERSION } from './commands/version.js';

const USAGE = `ringkv ${RINGKV_VERSION} — a Redis-compatible distributed key-value store

Usage:
  ringkv server [config-file] [--<setting> <value> ...]   run one node (settings use redis.conf names)
  ringkv cluster start [--nodes 3] [--base-port 7000] [--dir ./data]   run a local cluster
  ringkv status [--host 127.0.0.1] [--port 7000] [--watch] show the cluster's nodes (--watch: live)
  ringkv load-rdb <file.rdb> [--port 6379] [--cluster]      load a Redis RDB file into a running node or cluster
  ringkv <command> --help                                  options of one command
  ringkv --version

Every setting may also come from the environment as RINGKV_<NAME> (e.g. RINGKV_APPENDFSYNC=no).`;

const SERVER_USAGE = `Usage: ringkv server [config-file] [--<setting> <value> ...]

Runs one node. Settings carry redis.conf's names and are read from, later winning:
  defaults < config file (name value lines; - = standard input) < RINGKV_<NAME> environment
  variables < --name value. A redis.conf written for Redis 7.0 is taken as it is.
Examples:
  ringkv server --port 6379 --dir ./data
  ringkv server config/ringkv.conf --appendfsync everysec
  ringkv server /etc/redis/redis.conf --daemonize no
  ringkv server --cluster-enabled yes --port 7000 --cluster-seeds "127.0.0.1:7001 127.0.0.1:7002"
config/ringkv.conf lists every setting with its default and meaning.

Options:
  -h, --help      this text
  -v, --version   the version`;

const STATUS_USAGE = `Usage: ringkv status [--host 127.0.0.1] [--port 7000] [-a <password>] [--watch [seconds]]

Shows the cluster's nodes as one node sees them: state, slot share, epoch and rebalance progress.

Options:
  --host <host>            a node's address (default 127.0.0.1)
  --port <port>            its client port (default 7000)
  -a, --password <pass>    AUTH password
  -w, --watch [seconds]    redraw every few seconds (default 2) until Ctrl-C
  -h, --help               this text
  -v, --version            the version`;

const LOCAL_CLUSTER_USAGE = `Usage: ringkv cluster start [--nodes 3] [--base-port 7000] [--dir ./data] [--<setting> <value> ...]

Runs a cluster of N nodes on this machine, on ports base-port … base-port+N-1 (cluster bus +10000),
each with its data and log under <dir>/node-<port>, and its dashboard and metrics on port + 100
(http://127.0.0.1:7100/). A node that dies is reported and restarted
(after 1 s, doubling up to 30 s while it keeps dying); the others keep serving. Ctrl-C stops them all.

Options:
  --nodes <n>          how many nodes (1-64, default 3)
  --base-port <port>   the first node's client port (default 7000)
  --dir <path>         where the nodes' data directories go (default ./data)
  --<setting> <value>  any server setting, passed to every node (e.g. --appendfsync everysec)
  -h, --help           this text
  -v, --version        the version`;

const wantsHelp = (args: readonly string[]): boolean => args.includes('--help') || args.includes('-h');
const wantsVersion = (args: readonly string[]): boolean => args.includes('--version') || args.includes('-v');

async function runServer(args: string[]): Promise<void> {
  const config = loadConfig(args);
  // daemonize yes: the settings are checked here, then a detached copy of this process runs the node.
  if (config.bool('daemonize') && process.env.RINGKV_DAEMONIZED !== '1') return daemonize();
  // Loaded only to run: --help, --version and a bad setting answer without loading LMDB and the rest.
  const { ensureDataDir } = await import('./storage/data-dir.js');
  // As redis-server: the process works in its data directory, so relative paths in the settings
  // (aclfile, logfile, pidfile, unixsocket, certificates) are under it, and CONFIG GET dir is absolute.
  const dir = ensureDataDir(config.str('dir'));
  process.chdir(dir);
  config.set('dir', dir, true);
  const { createLogger } = await import('./core/logger.js');
  const { RingkvNode } = await import('./server/node.js');
  const { writePidFile } = await import('./server/pid-file.js');
  const logger = createLogger({ loglevel: config.str('loglevel'), logfile: config.str('logfile') });
  for (const warning of config.startupWarnings) logger.warn(warning);
  let node: Awaited<ReturnType<typeof RingkvNode.open>>;
  try {
    node = await RingkvNode.open(config, logger);
    await node.listen();
  } catch (err) {
    // Also in the log: a daemonized node has no stderr, and tools watch the log for why it stopped.
    logger.fatal(err instanceof Error ? err.message : String(err));
    throw err;
  }
  if (config.bool('set-proc-title')) (await import('./server/proc-title.js')).followProcTitle(config);
  const pidFile = await writePidFile(config.str('pidfile') || (config.bool('daemonize') ? DEFAULT_PID_FILE : ''), logger);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    node.stop().then(() => pidFile.remove()).then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Nodes of a local cluster stop with their launcher, however it ends (its end of our stdin closes).
  if (process.env.RINGKV_EXIT_WITH_STDIN === '1') {
    process.stdin.on('end', () => stop('launcher exited'));
    process.stdin.on('error', () => stop('launcher exited'));
    process.stdin.resume();
  }
}

/** Where a daemonized node writes its process id when no pidfile is set (Redis's default). */
const DEFAULT_PID_FILE = '/var/run/redis.pid';

/**
 * Starts this same command again, detached from the terminal with no standard streams (logs go to
 * `logfile`, as a daemonized Redis's do), and returns so this process exits.
 */
function daemonize(): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, RINGKV_DAEMONIZED: '1' },
  });
  child.unref();
}

/** Prints `usage` or the version when asked; true when the command should not run. */
function answeredInfo(args: readonly string[], usage: string): boolean {
  if (wantsHelp(args)) {
    console.log(usage);
    return true;
  }
  if (wantsVersion(args)) {
    console.log(`ringkv ${RINGKV_VERSION}`);
    return true;
  }
  return false;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'server':
      if (answeredInfo(rest, SERVER_USAGE)) return;
      return runServer(rest);
    case 'cluster':
      if (rest[0] === undefined || rest[0] === '--help' || rest[0] === '-h') {
        console.log(LOCAL_CLUSTER_USAGE);
        return;
      }
      if (rest[0] !== 'start') throw new UsageError(`unknown subcommand '${rest[0]}' (try: ringkv cluster start)`, 'cluster');
      if (answeredInfo(rest.slice(1), LOCAL_CLUSTER_USAGE)) return;
      return (await import('./tools/local-cluster.js')).runLocalCluster(rest.slice(1), fileURLToPath(import.meta.url));
    case 'status':
      if (answeredInfo(rest, STATUS_USAGE)) return;
      return (await import('./tools/status.js')).runStatus(rest);
    case 'load-rdb': {
      const tool = await import('./tools/load-rdb.js');
      if (answeredInfo(rest, tool.LOAD_RDB_USAGE)) return;
      return tool.runLoadRdb(rest);
    }
    case '--version':
    case '-v':
    case 'version':
      console.log(`ringkv ${RINGKV_VERSION}`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      // Like redis-server, accept settings directly: `ringkv --port 7000`.
      if (cmd.startsWith('--') || cmd.endsWith('.conf')) return answeredInfo(argv, SERVER_USAGE) ? undefined : runServer(argv);
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

/**
 * Anything that ends start-up is one line on stderr and exit code 1 (as redis-server exits on a
 * bad config), never a stack trace: the cause and what to change is what an operator needs.
 */
main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) console.error(err.command ? `ringkv ${err.command}: ${err.message} (see ringkv ${err.command} --help)` : `ringkv: ${err.message} (see ringkv --help)`);
  else if (err instanceof ConfigError || err instanceof StartupError) console.error(`ringkv: ${err.message}`);
  else console.error(`ringkv: cannot start: ${startupMessage(err)}`);
  process.exit(1);
});
