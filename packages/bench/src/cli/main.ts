// corvid-bench: parses the command line, runs one benchmark, prints the text report (or --json); exit 1 on usage
// errors or when any request failed, 2 when the run itself failed.
import { formatText } from '../result.js';
import { USAGE, UsageError, parseOptions } from '../options.js';
import { runBench } from '../run.js';

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let options;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${USAGE}`);
    return 1;
  }
  const result = await runBench(options);
  console.log(options.json ? JSON.stringify(result, null, 2) : formatText(result));
  return result.requests.failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  },
);
