import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRange } from './byte-range';
import { signedDownloadPath, verifyDownloadPath } from './download-url';
import { judgeSniffedType, looksLikePlainText } from './media-types';

test('judgeSniffedType: declared type against the sniffed one, per row', () => {
  const sample = Buffer.from('plain');
  const rows: [string, string | undefined, string][] = [
    ['image/jpeg', 'image/jpeg', 'ok image/jpeg'],
    ['image/jpeg', 'application/pdf', 'CONTENT_MISMATCH'],
    ['image/jpeg', 'application/x-msdownload', 'CONTENT_MISMATCH'],
    ['image/jpeg', undefined, 'CONTENT_MISMATCH'],
    ['audio/ogg; codecs=opus', 'audio/ogg; codecs=opus', 'ok audio/ogg'],
    ['audio/mp4', 'audio/x-m4a', 'ok audio/mp4'],
    ['application/msword', 'application/x-cfb', 'ok application/msword'],
    ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/zip', 'CONTENT_MISMATCH'],
    ['text/plain', undefined, 'ok text/plain'],
    ['text/plain', 'application/x-elf', 'CONTENT_MISMATCH'],
    ['image/gif', 'image/gif', 'UNSUPPORTED_TYPE'],
    ['IMAGE/PNG', 'image/png', 'ok image/png'],
  ];
  for (const [declared, sniffed, expected] of rows) {
    const verdict = judgeSniffedType(declared, sniffed, sample, true);
    assert.equal(verdict.ok ? `ok ${verdict.mimeType}` : verdict.reason, expected, `${declared} / ${sniffed}`);
  }
});

test('plain text rule: UTF-8, no NUL or stray controls; a character cut at the sample end is fine', () => {
  assert.equal(looksLikePlainText(Buffer.from('Grüße\tund\r\nmehr\f'), true), true);
  assert.equal(looksLikePlainText(Buffer.from([0x61, 0x00, 0x62]), true), false);
  assert.equal(looksLikePlainText(Buffer.from([0x61, 0x1b, 0x62]), true), false);
  assert.equal(looksLikePlainText(Buffer.from([0x61, 0xff, 0x62]), true), false);
  const cut = Buffer.from('abc ü', 'utf8').subarray(0, 5);
  assert.equal(looksLikePlainText(cut, false), true);
  assert.equal(looksLikePlainText(cut, true), false);
});

test('Range header decisions', () => {
  assert.deepEqual(decideRange(undefined, 100), { kind: 'whole' });
  assert.deepEqual(decideRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(decideRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(decideRange('bytes=90-500', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(decideRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(decideRange('bytes=-500', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(decideRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(decideRange('bytes=5-2', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(decideRange('bytes=0-1,5-6', 100), { kind: 'whole' });
  assert.deepEqual(decideRange('items=0-1', 100), { kind: 'whole' });
});

test('signed download paths: valid until expiry, bound to tenant and media id, any secret of the list verifies', () => {
  const secret = Buffer.alloc(32, 1);
  const old = Buffer.alloc(32, 2);
  const now = new Date(1_700_000_000_000);
  const grant = { tenantId: 'acme', mediaId: 'med_0123', expires: 1_700_000_300 };
  const url = new URL(`http://x${signedDownloadPath(secret, grant)}`);
  assert.deepEqual(verifyDownloadPath([secret], url.pathname, url.searchParams, now), grant);
  assert.deepEqual(verifyDownloadPath([old, secret], url.pathname, url.searchParams, now), grant, 'during a KEK rotation');
  assert.equal(verifyDownloadPath([old], url.pathname, url.searchParams, now), undefined);
  assert.equal(verifyDownloadPath([secret], url.pathname, url.searchParams, new Date(1_700_000_300_000)), undefined, 'expired');
  assert.equal(verifyDownloadPath([secret], url.pathname.replace('acme', 'globex'), url.searchParams, now), undefined);
  assert.equal(verifyDownloadPath([secret], url.pathname.replace('med_0123', 'med_0124'), url.searchParams, now), undefined);
  const later = new URLSearchParams(url.searchParams);
  later.set('expires', String(grant.expires + 1000));
  assert.equal(verifyDownloadPath([secret], url.pathname, later, now), undefined, 'expiry is signed');
  const garbage = new URLSearchParams({ expires: 'x', signature: '!' });
  assert.equal(verifyDownloadPath([secret], url.pathname, garbage, now), undefined);
});
