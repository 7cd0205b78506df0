/**
 * `npm run bench`: measures the JetStream baseline, the platform's delivery path and receipt's webhook ingest on
 * this machine, prints a report and writes it as JSON. A script, not a test: it asserts nothing about timing.
 *
 *   npm run bench [-- --quick] [--only baseline,delivery,webhook-ingest] [--runs 3] [--out <file.json>] [--service-env KEY=VALUE ...]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanUpEverything } from './cleanup';
import { parseBenchArgs, USAGE, UsageError, type ParsedArgs } from './cli-args';
import { formatReport } from './report';
import { formatMarkdownSummary } from './summary-table';
import { runBenchmarks } from './run-benchmarks';
import { profileServicesInto } from './service-process';

async function main(): Promise<void> {
  let args: ParsedArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const { out, ...options } = args;
  if (options.cpuProfDir !== undefined) profileServicesInto(options.cpuProfDir);
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // A second signal exits at once; the 'exit' handler still kills the services.
      if (interrupted) process.exit(130);
      interrupted = true;
      console.error(`\n${signal}: stopping the services and nats-server, removing temp folders ...`);
      void cleanUpEverything().finally(() => process.exit(130));
    });
  }
  console.log(`Waygate benchmarks, ${options.profile.name} profile; the report follows at the end.`);
  const report = await runBenchmarks(options, (line) => console.log(line));
  console.log(`\n${formatReport(report)}`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  const markdownOut = `${out.replace(/\.json$/, '')}.md`;
  writeFileSync(markdownOut, formatMarkdownSummary(report));
  console.log(
    `JSON report: ${path.relative(process.cwd(), out) || out}; Markdown summary: ${path.relative(process.cwd(), markdownOut) || markdownOut}`,
  );
  if (report.benchmarks.some((result) => result.error)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
