import { launchProcess, tsxEntryCommand, type LaunchedProcess } from './process-launcher';

/** A Waygate service running as a child process (`node --import tsx apps/<service>/src/main.ts`). */
export type ServiceProcess = LaunchedProcess;

/**
 * Starts a service as a real process with only `env` (plus PATH) and resolves once it logged `<service> listening`;
 * rejects, quoting its last output lines, when it exits first or is not listening within `startTimeoutMs`. Its error
 * and fatal log lines are copied to this process's stderr, so a failing test shows why.
 */
export async function startServiceProcess(
  service: string,
  env: Record<string, string>,
  options: { startTimeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const launched = launchProcess({
    name: service,
    ...tsxEntryCommand(`apps/${service}/src/main.ts`),
    // A free metrics port unless the test names one: parallel tests must not collide on the documented defaults.
    env: { PATH: process.env.PATH, WAYGATE_LOG_LEVEL: 'info', WAYGATE_METRICS_PORT: '0', ...env },
    ready: { line: `${service} listening` },
    readyTimeoutMs: options.startTimeoutMs ?? 30_000,
    output: {
      onLine: (line) => {
        if (/"level":"(error|fatal)"/.test(line)) process.stderr.write(`[${service}] ${line.slice(0, 600)}\n`);
      },
    },
  });
  await launched.ready;
  return launched;
}
