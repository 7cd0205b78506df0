/** runService in a real child process (a small probe service): signals, draining and exit codes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchProcess } from '@waygate/testing';

/**
 * A process that runs a probe service under runService. Its `start` announces "probe listening" and then takes
 * `settleMs` more before it resolves, the widest form of the gap between a service's readiness line and the end of
 * its start; `stop` logs "probe drained".
 */
function probeService(options: { settleMs: number; failStart?: boolean }) {
  const script = `
    const { runService } = require(${JSON.stringify(path.join(__dirname, 'run-service.ts'))});
    const { createLogger } = require(${JSON.stringify(path.join(__dirname, 'pino-logger.ts'))});
    const logger = createLogger({ service: 'probe' });
    runService({
      logger,
      telemetry: { shutdown: async () => logger.info('telemetry flushed') },
      start: async () => {
        if (${options.failStart === true}) throw new Error('WAYGATE_REGION: must be "eu" or "us"');
        logger.info('probe listening');
        await new Promise((resolve) => setTimeout(resolve, ${options.settleMs}));
        return { stop: async () => logger.info('probe drained') };
      },
    });`;
  const lines: string[] = [];
  const launched = launchProcess({
    name: 'probe',
    command: process.execPath,
    args: ['--import', 'tsx', '-e', script],
    env: { PATH: process.env.PATH },
    ready: { line: 'probe listening' },
    output: { onLine: (line) => lines.push(line) },
  });
  return { launched, messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg) };
}

test('SIGTERM right after the readiness line drains and exits 0, also while start has not finished', async () => {
  const { launched, messages } = probeService({ settleMs: 500 });
  await launched.ready;
  // Before the fix the handler was installed only once start had resolved: this SIGTERM killed the process.
  assert.deepEqual(await launched.stop('SIGTERM'), { code: 0, signal: null }, messages().join('\n'));
  assert.deepEqual(messages(), ['probe listening', 'draining and stopping', 'probe drained', 'telemetry flushed', 'stopped']);
});

test('a second signal exits 130 at once, without waiting for the drain', async () => {
  const { launched, messages } = probeService({ settleMs: 60_000 });
  await launched.ready;
  launched.child.kill('SIGTERM');
  // The probe's start never finishes in time, so the first signal leaves it waiting; the second must end it.
  await launched.stop('SIGINT');
  assert.deepEqual(await launched.exited, { code: 130, signal: null });
  assert.deepEqual(messages(), ['probe listening', 'draining and stopping', 'second signal: exiting without draining']);
});

test('a failed start is logged as fatal with its reason and exits 1', async () => {
  const { launched, messages } = probeService({ settleMs: 0, failStart: true });
  await assert.rejects(launched.ready, /probe exited with code 1 before it was ready/);
  assert.deepEqual(await launched.exited, { code: 1, signal: null });
  assert.deepEqual(messages(), ['failed to start: WAYGATE_REGION: must be "eu" or "us"', 'telemetry flushed']);
});
