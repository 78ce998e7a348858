/**
 * The `corvid` command: parse etcd's flags and ETCD_* variables, start the member, and shut it
 * down cleanly on SIGTERM or SIGINT, or when removed from the cluster. Exit codes as etcd's: 0
 * after a clean stop, 1 on a bad flag or a failed start, 2 on a usage error. `corvid snapshot
 * status|restore` are etcdctl's snapshot commands for Corvid's snapshot files (snapshot.ts).
 */
import { autoCompactionOf, ConfigError, logOutputsOf, parseConfig, usageText, verifyConfig } from '../config/index.js';
import { snapshotCommand } from './snapshot.js';
import { startMember, type RunningMember } from '../server/index.js';
import { createLogger } from '../util/logger.js';
import { openLogOutputs } from '../util/log-outputs.js';
import { CORVID_VERSION, ETCD_API_VERSION } from '../version.js';

function versionText(): string {
  return [
    `corvid Version: ${CORVID_VERSION}`,
    `etcd API Version: ${ETCD_API_VERSION}`,
    `Node Version: ${process.version}`,
    `OS/Arch: ${process.platform}/${process.arch}`,
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  if (process.argv[2] === 'snapshot') return snapshotCommand(process.argv.slice(3));
  let outcome;
  try {
    outcome = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (outcome.kind === 'help') {
    process.stdout.write(usageText());
    return 0;
  }
  if (outcome.kind === 'version') {
    process.stdout.write(versionText());
    return 0;
  }
  let logWrite;
  try {
    // etcd's checks after parsing, printed plainly before anything starts (startMember repeats them for embedders).
    verifyConfig(outcome.config);
    autoCompactionOf(outcome.config);
    logWrite = openLogOutputs(logOutputsOf(outcome.config));
  } catch (err) {
    // etcd: "error verifying flags, ... See 'etcd --help'." and exit status 1.
    process.stderr.write(`${err instanceof ConfigError ? err.message : `error verifying flags, ${String(err instanceof Error ? err.message : err)}. See 'etcd --help'.`}\n`);
    return 1;
  }
  const logger = createLogger(outcome.config.logLevel, logWrite);
  const fatal = (err: unknown): void => {
    logger.error('member stopped on a fatal error', { error: err });
    process.exit(1);
  };
  process.on('unhandledRejection', fatal);
  // Listen for signals before starting, so one that arrives during start-up still stops cleanly.
  const stopRequested = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info('received signal; shutting down', { signal });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  let running: RunningMember;
  try {
    running = await startMember({ config: outcome.config, logger, onFatal: fatal });
  } catch (err) {
    logger.error('failed to start member', { error: err });
    return 1;
  }
  await Promise.race([stopRequested, running.stopped]);
  await running.close();
  logger.info('member stopped');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`corvid: ${String(err instanceof Error ? err.stack : err)}\n`);
    process.exit(1);
  },
);
