/** Each service, started as a real process with bad configuration, exits at once naming the bad variable. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { SERVICES } from '@waygate/local-run';

const REPO_ROOT = path.resolve(__dirname, '../../..');

function runService(service: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `apps/${service}/src/main.ts`], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

for (const service of SERVICES) {
  test(`${service} refuses to start with invalid configuration and names each bad variable`, async () => {
    const { code, output } = await runService(service, { WAYGATE_REGION: 'asia', WAYGATE_GRPC_PORT: 'seventy' });
    assert.equal(code, 1);
    const fatal = output
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .find((line) => line.level === 'fatal');
    assert.ok(fatal, output);
    assert.match(fatal.msg, /WAYGATE_REGION: must be "eu" or "us"/);
    assert.match(fatal.msg, /WAYGATE_GRPC_PORT/);
    assert.match(fatal.msg, /WAYGATE_TENANTS_FILE/);
  });
}
