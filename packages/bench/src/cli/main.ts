// corvid-bench: parses the command line, runs one benchmark (or the lease-expiry scenario), prints the text report
// (or --json); exit 1 on usage errors or when any request failed, 2 when the run itself failed.
import { formatText } from '../result.js';
import { USAGE, UsageError, parseOptions } from '../options.js';
import { runBench } from '../run.js';
import { LEASE_EXPIRY_USAGE, parseLeaseExpiryArgs, runLeaseExpiry } from '../lease-expiry.js';

/** The parsed flags, or null once a usage error has been printed with the usage. */
function parsedOrUsage<T>(parse: () => T, usage: string): T | null {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${usage}`);
    return null;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`${USAGE}\n${LEASE_EXPIRY_USAGE}`);
    return 0;
  }
  if (argv[0] === 'lease-expiry') return leaseExpiry(argv.slice(1));
  const options = parsedOrUsage(() => parseOptions(argv), USAGE);
  if (options === null) return 1;
  const result = await runBench(options);
  console.log(options.json ? JSON.stringify(result, null, 2) : formatText(result));
  return result.requests.failed > 0 ? 1 : 0;
}

/** Issue 5's lease-expiry scenario against one endpoint (bench:compare --lease-expiry runs it on etcd and Corvid). */
async function leaseExpiry(argv: readonly string[]): Promise<number> {
  const parsed = parsedOrUsage(() => parseLeaseExpiryArgs(argv), LEASE_EXPIRY_USAGE);
  if (parsed === null) return 1;
  const r = await runLeaseExpiry(parsed.options, (line) => console.error(line));
  console.log(parsed.json ? JSON.stringify(r, null, 2) : Object.entries(r).map(([k, v]) => `  ${k}:\t${JSON.stringify(v)}`).join('\n'));
  return r.grantFailures + r.putFailures > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  },
);
