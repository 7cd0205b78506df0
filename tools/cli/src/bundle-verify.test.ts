/** verifyBundle on real directories: an intact bundle, and each way one can be damaged. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTempDir } from '@waygate/testing';
import { isBundlePath, verifyBundle } from './bundle-verify';

const FILES: Record<string, string> = {
  'messages.jsonl': '{"record_id":"a"}\n',
  'messages.csv': 'record_id\r\na\r\n',
  'transcripts/cv_abc.html': '<!DOCTYPE html><p>a</p>',
};

function writeBundle(dir: string): void {
  mkdirSync(path.join(dir, 'transcripts'), { recursive: true });
  for (const [file, content] of Object.entries(FILES)) writeFileSync(path.join(dir, file), content);
  const files = Object.entries(FILES).map(([file, content]) => ({
    path: file,
    sha256: createHash('sha256').update(content).digest('hex'),
    bytes: Buffer.byteLength(content),
    records: 1,
  }));
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ files, messages: 1, conversations: 1 }));
}

test('an intact bundle verifies; a changed, truncated, missing or extra file is named', async () => {
  const dir = createTempDir();
  try {
    writeBundle(dir.path);
    assert.deepEqual((await verifyBundle(dir.path)).problems, []);

    writeFileSync(path.join(dir.path, 'messages.csv'), 'record_id\r\nb\r\n');
    appendFileSync(path.join(dir.path, 'messages.jsonl'), 'x');
    rmSync(path.join(dir.path, 'transcripts', 'cv_abc.html'));
    writeFileSync(path.join(dir.path, 'transcripts', 'cv_extra.html'), '');
    const { problems } = await verifyBundle(dir.path);
    assert.equal(problems.length, 5, problems.join('\n'));
    assert.match(problems[0] ?? '', /^messages\.jsonl: 19 bytes, the manifest says 18$/);
    assert.match(problems[1] ?? '', /^messages\.jsonl: SHA-256 [0-9a-f]{64} does not match/);
    assert.match(problems[2] ?? '', /^messages\.csv: SHA-256 .* does not match/);
    assert.equal(problems[3], 'transcripts/cv_abc.html: listed in the manifest but missing');
    assert.equal(problems[4], 'transcripts/cv_extra.html: not in the manifest');

    rmSync(path.join(dir.path, 'manifest.json'));
    assert.match((await verifyBundle(dir.path)).problems[0] ?? '', /manifest\.json is missing or unreadable/);
  } finally {
    dir.remove();
  }
});

test('only the bundle layout can become a path on disk', () => {
  for (const ok of ['messages.jsonl', 'messages.csv', 'manifest.json', 'transcripts/cv_AZaz09-_.html']) assert.ok(isBundlePath(ok), ok);
  for (const bad of ['../x', '/etc/passwd', 'transcripts/../../x.html', 'transcripts/a/b.html', 'other.txt', 'transcripts/.html', '']) {
    assert.ok(!isBundlePath(bad), bad);
  }
});
