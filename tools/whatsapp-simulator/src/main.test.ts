/** The standalone CLI as a real child process: config file, start banner, a send, clean stop on SIGTERM. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { launchProcess, ProcessLaunchError, tsxEntryCommand, type LaunchedProcess } from '@waygate/testing';

const dir = mkdtempSync(path.join(tmpdir(), 'simulator-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const READY_LINE = 'simulator started';

interface Cli {
  readonly launched: LaunchedProcess;
  /** Its log lines so far, parsed. */
  readonly entries: () => Record<string, unknown>[];
}

/**
 * `npm run simulator -- <args>` with only PATH and `env`, ready once it logged "simulator started". `onLine` sees each
 * line as it arrives, before readiness is reported.
 */
function startCli(args: string[], env: NodeJS.ProcessEnv = {}, onLine?: (line: string, cli: LaunchedProcess) => void): Cli {
  const lines: string[] = [];
  const entry = tsxEntryCommand('tools/whatsapp-simulator/src/main.ts');
  const launched: LaunchedProcess = launchProcess({
    name: 'whatsapp-simulator',
    ...entry,
    args: [...entry.args, ...args],
    env: { PATH: process.env.PATH, ...env },
    ready: { line: READY_LINE },
    output: {
      onLine: (line) => {
        lines.push(line);
        onLine?.(line, launched);
      },
    },
  });
  return { launched, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** The start banner, once the CLI is ready. */
async function banner(cli: Cli): Promise<Record<string, unknown>> {
  await cli.launched.ready;
  const started = cli.entries().find((entry) => entry.msg === READY_LINE);
  assert.ok(started, cli.launched.outputTail());
  return started;
}

describe('npm run simulator', () => {
  it('serves the numbers and templates of a config file and stops cleanly on SIGTERM', async () => {
    const config = path.join(dir, 'simulator.yaml');
    writeFileSync(
      config,
      [
        'appSecret: cli-app-secret',
        'wabas:',
        '  - id: "102290129340398"',
        '    phoneNumbers:',
        '      - { id: "106540352242922", displayPhoneNumber: "+1 555-010-2030", accessToken: EAAcli-token, throughputMps: 100 }',
        '    templates:',
        '      - { name: order_update, language: en_US, category: UTILITY, bodyParameters: 1 }',
      ].join('\n'),
    );
    const cli = startCli(['--port', '0', '--config', config, '--time-scale', '0', '--seed', '4']);
    try {
      const started = await banner(cli);
      const url = String(started.url);
      assert.equal(started.appSecret, '****cret', 'secrets from a config file stay masked');
      assert.deepEqual(started.templates, ['order_update/en_US']);
      assert.equal((started.clock as { scale: number }).scale, 0, 'frozen simulated time');
      const response = await fetch(`${url}/v23.0/106540352242922/messages`, {
        method: 'POST',
        headers: { Authorization: 'Bearer EAAcli-token', 'Content-Type': 'application/json' },
        body: JSON.stringify({
          messaging_product: 'whatsapp',
          to: '4915112345678',
          type: 'template',
          template: {
            name: 'order_update',
            language: { code: 'en_US' },
            components: [{ type: 'body', parameters: [{ type: 'text', text: 'A-1' }] }],
          },
        }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      assert.deepEqual(await cli.launched.stop('SIGTERM'), { code: 0, signal: null }, cli.launched.outputTail());
      assert.deepEqual(
        cli
          .entries()
          .slice(-2)
          .map((entry) => entry.msg),
        ['stopping', 'stopped'],
      );
    } finally {
      await cli.launched.stop('SIGKILL');
    }
  });

  it('starts its clock at --start-time (a day in the past, say), and refuses a start time without a zone', async () => {
    const cli = startCli(['--port', '0', '--time-scale', '0', '--start-time', '2026-03-01T10:00:00.250Z']);
    try {
      const started = await banner(cli);
      assert.deepEqual(started.clock, { now: '2026-03-01T10:00:00.250Z', scale: 0 });
      const clock = (await (await fetch(`${String(started.url)}/_simulator/clock`)).json()) as { nowMs: number };
      assert.equal(clock.nowMs, Date.parse('2026-03-01T10:00:00.250Z'));
    } finally {
      assert.deepEqual(await cli.launched.stop(), { code: 0, signal: null });
    }
    const bad = startCli(['--port', '0', '--start-time', '2026-03-01 10:00']);
    await assert.rejects(bad.launched.ready, (error) => error instanceof ProcessLaunchError && error.reason === 'exited');
    assert.deepEqual(await bad.launched.exited, { code: 1, signal: null });
    assert.match(JSON.stringify(bad.entries().at(-1)), /--start-time/);
  });

  it('prints generated demo credentials in full, and fails fast on a bad config file', async () => {
    const demo = startCli(['--port', '0']);
    try {
      const started = await banner(demo);
      const [phone] = started.phoneNumbers as { accessToken: string; phoneNumberId: string }[];
      assert.match(phone?.accessToken ?? '', /^EAAsim/);
      assert.match(String(started.appSecret), /^[0-9a-f]{32}$/);
    } finally {
      assert.deepEqual(await demo.launched.stop(), { code: 0, signal: null });
    }
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'appSecret: x\nwabas: []\n');
    const broken = startCli(['--port', '0', '--config', bad]);
    await assert.rejects(broken.launched.ready, (error) => error instanceof ProcessLaunchError && error.reason === 'exited');
    assert.deepEqual(await broken.launched.exited, { code: 1, signal: null });
    assert.equal(broken.entries().at(-1)?.msg, 'simulator failed to start');
  });

  // The parent sends SIGTERM from inside its line handler, the moment "simulator started" arrives: the tightest
  // race with the child's next statements. Before the handlers were installed ahead of the banner, about half of such
  // stops were kills (signal SIGTERM, no exit code); three rounds make a regression all but certain to show.
  it('stops cleanly (exit 0) on a SIGTERM sent the moment its readiness line arrives', async () => {
    for (let round = 1; round <= 3; round++) {
      const cli = startCli(['--port', '0'], {}, (line, launched) => {
        if (line.includes(READY_LINE)) launched.child.kill('SIGTERM');
      });
      await cli.launched.ready;
      const exit = await cli.launched.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, `round ${round}: ${cli.launched.outputTail()}`);
      assert.deepEqual(
        cli.entries().map((entry) => entry.msg),
        [READY_LINE, 'stopping', 'stopped'],
      );
    }
  });
});
