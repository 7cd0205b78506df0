import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const REPO_ROOT = path.resolve(__dirname, '../../..');

/** Lines of output kept in memory for error messages (each cut to {@link MAX_KEPT_LINE_LENGTH} characters). */
const KEPT_LINES = 200;
const MAX_KEPT_LINE_LENGTH = 2000;
/** How often a readiness check is polled. */
const READY_POLL_INTERVAL_MS = 100;
/** After the process exited, how long its last output may take to arrive. */
const OUTPUT_DRAIN_MS = 1000;

/** How a launched process counts as ready: a line of its output, or a check polled until it resolves true. */
export type ReadinessProbe = { readonly line: string | RegExp } | { readonly check: () => Promise<boolean> };

/** Where a launched process's output (stdout and stderr) goes. */
export type ProcessOutput =
  /** Piped here, split into lines and handed to `onLine` (if given); the last lines are kept for errors. */
  | { readonly onLine?: (line: string) => void }
  /**
   * Appended by the child itself to `file`, so this process does no work for it (a benchmark's load generator
   * competes with nobody); errors quote the file's last lines. A `line` readiness probe needs piped output.
   */
  | { readonly file: string };

/** What to launch and how to tell that it is ready. */
export interface LaunchOptions {
  /** Names the process in errors. */
  readonly name: string;
  readonly command: string;
  readonly args?: readonly string[];
  /** Default: the repository root. */
  readonly cwd?: string;
  /** The child's whole environment: nothing is inherited that is not in here. */
  readonly env: NodeJS.ProcessEnv;
  readonly ready: ReadinessProbe;
  /** Default 30 s; a process not ready by then is stopped and {@link LaunchedProcess.ready} rejects. */
  readonly readyTimeoutMs?: number;
  /** Default: piped, lines kept only for errors. */
  readonly output?: ProcessOutput;
  /** How long {@link LaunchedProcess.stop} waits after SIGTERM before SIGKILL; default 15 s. */
  readonly stopGraceMs?: number;
  /**
   * Own process group: a terminal's Ctrl-C then reaches only this process, which stops the child in its own order (a
   * service that got SIGINT from the terminal and SIGTERM from us would take the second as "exit now").
   */
  readonly detached?: boolean;
}

/** How a launched process ended. */
export interface ProcessExit {
  /** Exit code, or null when a signal ended it (or it never ran). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process started by {@link launchProcess}. */
export interface LaunchedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /**
   * Resolves once the process is ready. Rejects with a {@link ProcessLaunchError} when it could not be started,
   * exited first, or was not ready in time (then it has been stopped); the error quotes its last output lines.
   */
  readonly ready: Promise<void>;
  /** Resolves once the process has ended (also when it could not be started). */
  readonly exited: Promise<ProcessExit>;
  /** Its last `lines` output lines (default 20), for error messages. */
  outputTail(lines?: number): string;
  /**
   * Sends `signal` (default SIGTERM: a service drains) and, unless that was SIGKILL, SIGKILL after the grace period;
   * resolves with the exit. Does nothing more for a process that already ended.
   */
  stop(signal?: NodeJS.Signals): Promise<ProcessExit>;
}

/** Why a launch failed. */
export type ProcessLaunchFailure = 'spawn-failed' | 'exited' | 'not-ready';

/** A process that did not become ready; `message` says why and quotes its last output lines. */
export class ProcessLaunchError extends Error {
  override readonly name = 'ProcessLaunchError';

  constructor(
    readonly processName: string,
    readonly reason: ProcessLaunchFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `node --import tsx <entry>` from the repository root: how `npm start` runs a service or tool from source. */
export function tsxEntryCommand(entry: string): { command: string; args: string[]; cwd: string } {
  return { command: process.execPath, args: ['--import', 'tsx', entry], cwd: REPO_ROOT };
}

// Children still running when this process exits (normally or by process.exit) are killed rather than left behind.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function killLeftovers(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * Starts a child process, collects its output, and watches for readiness, exit and stop. Returns at once; await
 * `ready`. Nothing is inherited from this process but what `env` holds.
 */
export function launchProcess(options: LaunchOptions): LaunchedProcess {
  const { name } = options;
  const output = options.output ?? {};
  const file = 'file' in output ? output.file : undefined;
  if (file !== undefined && 'line' in options.ready) throw new Error(`${name}: a line readiness probe needs piped output, not a file`);
  const fd = file === undefined ? undefined : openSync(file, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.command, options.args ?? [], {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env,
      stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
      detached: options.detached ?? false,
    });
  } finally {
    // The child has its own copy of the descriptor.
    if (fd !== undefined) closeSync(fd);
  }
  running.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killLeftovers);
  }

  // Output: kept lines for errors, handed on line by line, and watched for a readiness line.
  const kept: string[] = [];
  const lineWatchers = new Set<(line: string) => void>();
  const onLine = 'onLine' in output ? output.onLine : undefined;
  const streamsClosed: Promise<void>[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    streamsClosed.push(new Promise((resolve) => lines.once('close', resolve)));
    lines.on('line', (line) => {
      kept.push(line.length > MAX_KEPT_LINE_LENGTH ? `${line.slice(0, MAX_KEPT_LINE_LENGTH)}…` : line);
      if (kept.length > KEPT_LINES) kept.shift();
      onLine?.(line);
      for (const watch of lineWatchers) watch(line);
    });
  }
  const outputTail = (count = 20): string => {
    if (file === undefined) return kept.slice(-count).join('\n');
    try {
      return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
    } catch {
      return '';
    }
  };

  let spawnError: Error | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A process that could not be started emits 'error' and (usually) no 'exit'; a failed kill emits one too.
    child.on('error', (error) => {
      if (child.pid !== undefined) return;
      spawnError = error;
      resolve({ code: null, signal: null });
    });
  }).finally(() => running.delete(child));

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<ProcessExit> => {
    if (child.exitCode !== null || child.signalCode !== null || spawnError) return exited;
    child.kill(signal);
    const force = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), options.stopGraceMs ?? 15_000);
    try {
      return await exited;
    } finally {
      clearTimeout(force);
    }
  };

  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const ready = new Promise<void>((resolve, reject) => {
    let settled = false;
    let poll: NodeJS.Timeout | undefined;
    const finish = (error?: ProcessLaunchError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(poll);
      lineWatchers.clear();
      if (!error) return resolve();
      // A process that is not ready in time is not left running.
      void stop().then(() => reject(error));
    };
    const deadline = setTimeout(
      () => finish(new ProcessLaunchError(name, 'not-ready', `${name} was not ready within ${readyTimeoutMs} ms:\n${outputTail()}`)),
      readyTimeoutMs,
    );
    void exited.then(async (exit) => {
      if (settled) return;
      if (spawnError) {
        return finish(
          new ProcessLaunchError(name, 'spawn-failed', `cannot run ${name} (${options.command}): ${spawnError.message}`, {
            cause: spawnError,
          }),
        );
      }
      // Its last words (the reason it exited) may still be on their way through the pipes.
      await Promise.race([Promise.all(streamsClosed), new Promise((resolve) => setTimeout(resolve, OUTPUT_DRAIN_MS).unref())]);
      const how = exit.signal ? `on ${exit.signal}` : `with code ${exit.code}`;
      finish(new ProcessLaunchError(name, 'exited', `${name} exited ${how} before it was ready:\n${outputTail()}`));
    });
    const probe = options.ready;
    if ('line' in probe) {
      const wanted = probe.line;
      lineWatchers.add((line) => {
        if (typeof wanted === 'string' ? line.includes(wanted) : wanted.test(line)) finish();
      });
    } else {
      const tick = async (): Promise<void> => {
        if (settled) return;
        if (await probe.check().catch(() => false)) return finish();
        if (!settled) poll = setTimeout(() => void tick(), READY_POLL_INTERVAL_MS);
      };
      void tick();
    }
  });
  // A caller that only stops the process need not await readiness; its failure is then not unhandled.
  ready.catch(() => undefined);

  return { name, child, ready, exited, outputTail, stop };
}
