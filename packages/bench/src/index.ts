// @corvid/bench's public face: options, the runner, the histogram and the report formats.
export { DEFAULT_OPTIONS, USAGE, UsageError, isFixedRequest, parseOptions, type BenchOptions, type Generator, type Workload } from './options.js';
export { LatencyHistogram, type HistogramSnapshot } from './histogram.js';
export { runBench, h2loadAvailable } from './run.js';
export { formatText, type BenchResult, type LatencySummaryMs } from './result.js';
export { parseH2loadOutput, parseH2loadLog, parseBashTimes, h2loadArgs, stopH2loadRuns, type H2loadSummary } from './h2load.js';
