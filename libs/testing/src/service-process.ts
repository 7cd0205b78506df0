import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../../..');

/** A Waygate service running as a child process (`node --import tsx apps/<service>/src/main.ts`). */
export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM drains, SIGKILL is a crash) and waits for the exit. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts a service as a real process with only `env` (plus PATH) and resolves once it logged `<service> listening`.
 * Its error and fatal log lines are copied to this process's stderr, so a failing test shows why.
 */
export async function startServiceProcess(
  service: string,
  env: Record<string, string>,
  options: { startTimeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', `apps/${service}/src/main.ts`], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, WAYGATE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${service} did not start:\n${output}`)), options.startTimeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`${service} listening`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`${service} exited with ${code}:\n${output}`)));
  });
  const relay = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (/"level":"(error|fatal)"/.test(line)) process.stderr.write(`[${service}] ${line.slice(0, 600)}\n`);
    }
  };
  child.stdout?.on('data', relay);
  child.stderr?.on('data', relay);
  return {
    child,
    exited,
    async stop(signal) {
      child.kill(signal);
      await exited;
    },
  };
}
