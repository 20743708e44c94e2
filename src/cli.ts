#!/usr/bin/env node
import { ConfigError, loadConfig } from './core/config.js';
import { createLogger } from './core/logger.js';
import { RingkvNode } from './server/node.js';
import { RINGKV_VERSION } from './commands/version.js';
import { runLocalCluster } from './tools/local-cluster.js';
import { runStatus } from './tools/status.js';

const USAGE = `ringkv ${RINGKV_VERSION} — a Redis-compatible distributed key-value store

Usage:
  ringkv server [config-file] [--<setting> <value> ...]   run one node (settings use redis.conf names)
  ringkv cluster start [--nodes 3] [--base-port 7000] [--dir ./data]   run a local cluster
  ringkv status [--host 127.0.0.1] [--port 7000]           show the cluster's nodes
  ringkv --version

Every setting may also come from the environment as RINGKV_<NAME> (e.g. RINGKV_APPENDFSYNC=no).`;

async function runServer(args: string[]): Promise<void> {
  const config = loadConfig(args);
  const logger = createLogger({ loglevel: config.str('loglevel'), logfile: config.str('logfile') });
  const node = await RingkvNode.open(config, logger);
  await node.listen();
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    node.stop().then(() => process.exit(0), (err: unknown) => {
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

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'server':
      return runServer(rest);
    case 'cluster':
      if (rest[0] !== 'start') throw new ConfigError(`unknown cluster subcommand '${rest[0] ?? ''}' (try: ringkv cluster start)`);
      return runLocalCluster(rest.slice(1));
    case 'status':
      return runStatus(rest);
    case '--version':
    case '-v':
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
      if (cmd.startsWith('--') || cmd.endsWith('.conf')) return runServer(argv);
      console.error(`Unknown command '${cmd}'\n\n${USAGE}`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`ringkv: ${err.message}`);
    process.exit(2);
  }
  console.error('ringkv: fatal error', err);
  process.exit(1);
});
