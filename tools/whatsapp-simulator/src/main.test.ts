/** The standalone CLI as a real child process: config file, start banner, a send, clean stop on SIGTERM. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { createInterface } from 'node:readline';

const MAIN = path.join(__dirname, 'main.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'simulator-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  return { child, lines };
}

async function banner(lines: AsyncIterator<string>): Promise<Record<string, unknown>> {
  for (;;) {
    const next = await lines.next();
    if (next.done === true) throw new Error('the simulator exited before its start banner');
    const entry = JSON.parse(next.value) as Record<string, unknown>;
    if (entry.msg === 'simulator started') return entry;
  }
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
    const { child, lines } = startCli(['--port', '0', '--config', config, '--time-scale', '0', '--seed', '4']);
    try {
      const started = await banner(lines);
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
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('prints generated demo credentials in full, and fails fast on a bad config file', async () => {
    const demo = startCli(['--port', '0']);
    try {
      const started = await banner(demo.lines);
      const [phone] = started.phoneNumbers as { accessToken: string; phoneNumberId: string }[];
      assert.match(phone?.accessToken ?? '', /^EAAsim/);
      assert.match(String(started.appSecret), /^[0-9a-f]{32}$/);
    } finally {
      demo.child.kill('SIGTERM');
      await once(demo.child, 'exit');
    }
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'appSecret: x\nwabas: []\n');
    const broken = startCli(['--port', '0', '--config', bad]);
    const [code] = (await once(broken.child, 'exit')) as [number | null];
    assert.equal(code, 1);
  });
});
