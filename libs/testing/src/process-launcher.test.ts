/** The launcher with real child processes (small `node -e` scripts): readiness, failures, output, stop escalation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, isPortOpen } from './nats-server';
import { launchProcess, ProcessLaunchError, tsxEntryCommand, type LaunchOptions } from './process-launcher';
import { createTempDir } from './temp-dir';

/** `node -e script` with only PATH and `env` in its environment. */
function node(script: string, options: Partial<LaunchOptions> & Pick<LaunchOptions, 'ready'>, env: NodeJS.ProcessEnv = {}): LaunchOptions {
  return { name: 'probe', command: process.execPath, args: ['-e', script], env: { PATH: process.env.PATH, ...env }, ...options };
}

/** Rejects with a ProcessLaunchError of `reason` whose message matches `message`. */
async function assertLaunchFails(ready: Promise<void>, reason: string, message: RegExp): Promise<void> {
  await assert.rejects(ready, (error) => {
    assert.ok(error instanceof ProcessLaunchError, String(error));
    assert.equal(error.reason, reason);
    assert.match(error.message, message);
    return true;
  });
}

test('ready on a line of its output; every line is handed on; SIGTERM stops it and its exit is reported', async () => {
  const lines: string[] = [];
  const launched = launchProcess(
    node(
      `console.log('starting as ' + process.env.ROLE);
       process.on('SIGTERM', () => { console.log('draining'); process.exit(0); });
       setTimeout(() => console.error('{"level":"info","msg":"probe listening"}'), 100);
       setInterval(() => undefined, 1000);`,
      { ready: { line: 'probe listening' }, output: { onLine: (line) => lines.push(line) } },
      { ROLE: 'worker' },
    ),
  );
  await launched.ready;

  assert.deepEqual(lines, ['starting as worker', '{"level":"info","msg":"probe listening"}']);
  assert.equal(launched.outputTail(1), '{"level":"info","msg":"probe listening"}');
  assert.deepEqual(await launched.stop(), { code: 0, signal: null });
  assert.equal(lines.at(-1), 'draining');
  assert.deepEqual(await launched.stop(), { code: 0, signal: null }, 'stopping again reports the same exit');
});

test('ready when a polled check passes (a port that starts listening)', async () => {
  const port = await freePort();
  const launched = launchProcess(
    node(`setTimeout(() => require('node:http').createServer((q, r) => r.end('ok')).listen(${port}, '127.0.0.1'), 200);`, {
      ready: { check: () => isPortOpen(port) },
    }),
  );
  try {
    await launched.ready;
    const answer = await new Promise<string>((resolve, reject) =>
      http
        .get(`http://127.0.0.1:${port}/`, (response) => response.on('data', (chunk: Buffer) => resolve(chunk.toString())))
        .on('error', reject),
    );
    assert.equal(answer, 'ok');
  } finally {
    await launched.stop();
  }
});

test('a crash before it is ready is a clear error with its exit code and last words', async () => {
  const launched = launchProcess(
    node(`console.error('WAYGATE_REGION: must be "eu" or "us"'); process.exit(3);`, { ready: { line: 'listening' } }),
  );
  await assertLaunchFails(
    launched.ready,
    'exited',
    /^probe exited with code 3 before it was ready:\nWAYGATE_REGION: must be "eu" or "us"$/,
  );
  assert.deepEqual(await launched.exited, { code: 3, signal: null });
});

test('not ready in time: the error says so, and the process is stopped rather than left running', async () => {
  const launched = launchProcess(
    node(`console.log('still warming up'); setInterval(() => undefined, 1000);`, { ready: { line: 'listening' }, readyTimeoutMs: 500 }),
  );
  await assertLaunchFails(launched.ready, 'not-ready', /^probe was not ready within 500 ms:\nstill warming up$/);
  assert.equal(launched.child.signalCode, 'SIGTERM', 'it was stopped');
});

test('a command that cannot be run is a spawn failure naming it', async () => {
  const launched = launchProcess({ name: 'nats-server', command: '/nonexistent/nats-server', env: {}, ready: { line: 'ready' } });
  await assertLaunchFails(launched.ready, 'spawn-failed', /^cannot run nats-server \(\/nonexistent\/nats-server\): .*ENOENT/);
  assert.deepEqual(await launched.exited, { code: null, signal: null });
});

// A broken escalation would wait forever: the timeout turns that into a failure.
test(
  'stop escalates to SIGKILL when SIGTERM is ignored for the grace period; SIGKILL is sent at once when asked',
  { timeout: 10_000 },
  async () => {
    const stubborn = `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('up'); setInterval(() => undefined, 1000);`;
    const launched = launchProcess(node(stubborn, { ready: { line: 'up' }, stopGraceMs: 400 }));
    await launched.ready;
    const started = Date.now();
    assert.deepEqual(await launched.stop(), { code: null, signal: 'SIGKILL' });
    assert.ok(Date.now() - started >= 390, 'SIGKILL came after the grace period');
    assert.equal(launched.outputTail(), 'up\nignoring SIGTERM');

    const crashed = launchProcess(node(stubborn, { ready: { line: 'up' }, stopGraceMs: 60_000 }));
    await crashed.ready;
    assert.deepEqual(await crashed.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
  },
);

test('output to a file is written by the child, and errors quote the file', async () => {
  const dir = createTempDir();
  try {
    const file = path.join(dir.path, 'probe.log');
    const launched = launchProcess(
      node(`console.log('one'); console.error('two'); process.exit(1);`, { ready: { check: async () => false }, output: { file } }),
    );
    await assertLaunchFails(launched.ready, 'exited', /exited with code 1 before it was ready:\none\ntwo$/);
    assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n');
    assert.throws(() => launchProcess(node('', { ready: { line: 'x' }, output: { file } })), /needs piped output/);
  } finally {
    dir.remove();
  }
});

test('tsxEntryCommand runs a TypeScript entry from the repository root (the simulator, ready on its health check)', async () => {
  const port = await freePort();
  const entry = tsxEntryCommand('tools/whatsapp-simulator/src/main.ts');
  const launched = launchProcess({
    name: 'whatsapp-simulator',
    ...entry,
    args: [...entry.args, '--port', String(port)],
    env: { PATH: process.env.PATH },
    ready: { check: async () => (await fetch(`http://127.0.0.1:${port}/_simulator/health`)).ok },
  });
  try {
    await launched.ready;
    assert.match(launched.outputTail(), /"msg":"simulator started"/);
  } finally {
    assert.deepEqual(await launched.stop(), { code: 0, signal: null }, 'it drained on SIGTERM');
  }
});
