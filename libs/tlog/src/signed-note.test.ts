import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTempDir } from '@waygate/testing';
import { formatCheckpoint, MalformedCheckpointError, parseCheckpoint, signCheckpoint, verifyCheckpoint } from './checkpoint';
import { LogSigningKeyConfigError, loadOrCreateLogSigningKey, LOG_SIGNING_KEY_VARIABLE } from './log-signing-key';
import { leafHash } from './merkle-hash';
import { noteSignerFromSeed, NoteVerificationError, noteVerifier, parseVerifierKey, signNote, verifyNote } from './signed-note';

// The reference key and note of golang.org/x/mod/sumdb/note (note_test.go), which C2SP signed-note codifies.
const SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const NOTE = `${TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

function peterSigner() {
  const seed = Buffer.from(SKEY.split('+').slice(4).join('+'), 'base64').subarray(1);
  return noteSignerFromSeed('PeterNeumann', seed);
}

test('key id, verifier key and signature match the Go reference byte for byte', () => {
  const signer = peterSigner();
  assert.equal(signer.keyId.toString(16), 'c74f20a3');
  assert.equal(signer.verifierKey, VKEY);
  assert.equal(signNote(TEXT, [signer]), NOTE, 'Ed25519 is deterministic: the same note as the reference');
  const verifier = parseVerifierKey(VKEY);
  assert.deepEqual(verifier.publicKey, signer.publicKey);
  assert.deepEqual(verifyNote(NOTE, [verifier]).text, TEXT);
});

test('verification rejects changed text, unknown-only signers and bad signatures; ignores unknown keys', () => {
  const verifier = parseVerifierKey(VKEY);
  assert.throws(() => verifyNote(NOTE.replace('cryptography', 'cryptographY'), [verifier]), NoteVerificationError);
  const other = noteSignerFromSeed('someone-else', randomBytes(32));
  assert.throws(() => verifyNote(NOTE, [other]), /no signature by a known key/);
  // A second signature by an unknown key is ignored.
  const both = signNote(TEXT, [peterSigner(), other]);
  assert.equal(verifyNote(both, [verifier]).text, TEXT);
  assert.equal(verifyNote(both, [verifier, other]).verifiedBy.length, 2);
  // Same name and id, wrong signature bytes: rejected.
  const forged = NOTE.replace('x08go/ZJ', 'x08go/ZK');
  assert.throws(() => verifyNote(forged, [verifier]), NoteVerificationError);
  // Malformed notes.
  for (const bad of [TEXT, `${TEXT}\n`, `${TEXT}\n- PeterNeumann abc=\n`, NOTE.slice(0, -1), `a\u0001b\n${NOTE}`])
    assert.throws(() => verifyNote(bad, [verifier]), NoteVerificationError, JSON.stringify(bad));
  assert.throws(() => signNote('no newline', [other]), NoteVerificationError);
});

test('malformed or mismatched verifier keys are refused', () => {
  for (const bad of [
    'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    'PeterNeumann+c74f20a3+AhpcQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    'PeterNeumann+c74f20a3',
    'PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T',
  ])
    assert.throws(() => parseVerifierKey(bad), NoteVerificationError, bad);
  assert.throws(() => noteVerifier('has space', randomBytes(32)), RangeError);
  assert.throws(() => noteVerifier('has+plus', randomBytes(32)), RangeError);
});

test('checkpoints format as C2SP tlog-checkpoint, sign, verify and parse back', () => {
  const signer = noteSignerFromSeed('waygate-eu', randomBytes(32));
  const rootHash = leafHash(Buffer.from('x'));
  const text = formatCheckpoint({ origin: 'waygate/eu/archive/acme', treeSize: 42, rootHash });
  assert.equal(text, `waygate/eu/archive/acme\n42\n${rootHash.toString('base64')}\n`);
  assert.deepEqual(parseCheckpoint(text), { origin: 'waygate/eu/archive/acme', treeSize: 42, rootHash });
  const note = signCheckpoint({ origin: 'waygate/eu/archive/acme', treeSize: 42, rootHash }, signer);
  const verifier = parseVerifierKey(signer.verifierKey);
  assert.equal(verifyCheckpoint(note, verifier, 'waygate/eu/archive/acme').treeSize, 42);
  assert.throws(() => verifyCheckpoint(note, verifier, 'waygate/eu/archive/other'), MalformedCheckpointError);
  assert.throws(() => verifyCheckpoint(note.replace('\n42\n', '\n43\n'), verifier), NoteVerificationError);
  const withExtension = formatCheckpoint({ origin: 'o', treeSize: 0, rootHash, extensions: ['ext line'] });
  assert.deepEqual(parseCheckpoint(withExtension).extensions, ['ext line']);
  for (const bad of [
    'o\n01\nAAAA\n',
    'o\n1\n',
    `o\n1\n${rootHash.toString('base64')}`,
    `\n1\n${rootHash.toString('base64')}\n`,
    'o\n1\nAAAA\n',
  ])
    assert.throws(() => parseCheckpoint(bad), MalformedCheckpointError, JSON.stringify(bad));
});

test('the region key: from the setting, else a generated 0600 file reused across starts; malformed is an error naming it', () => {
  const seed = randomBytes(32);
  const fromSetting = loadOrCreateLogSigningKey({ env: { [LOG_SIGNING_KEY_VARIABLE]: seed.toString('base64') }, keyName: 'waygate-eu' });
  assert.equal(fromSetting.source, 'setting');
  assert.equal(fromSetting.signer.verifierKey, noteSignerFromSeed('waygate-eu', seed).verifierKey);
  for (const bad of ['', 'short', randomBytes(31).toString('base64'), seed.toString('hex')])
    assert.throws(
      () => loadOrCreateLogSigningKey({ env: { [LOG_SIGNING_KEY_VARIABLE]: bad }, keyName: 'waygate-eu' }),
      (error: Error) => error instanceof LogSigningKeyConfigError && error.message.startsWith(`${LOG_SIGNING_KEY_VARIABLE}:`),
    );
  assert.throws(() => loadOrCreateLogSigningKey({ env: {}, keyName: 'waygate-eu' }), LogSigningKeyConfigError);
  const dir = createTempDir();
  try {
    const file = path.join(dir.path, 'eu', 'log-signing.key');
    const first = loadOrCreateLogSigningKey({ env: {}, keyName: 'waygate-eu', localKeyFile: file });
    assert.equal(first.source, 'local-file-created');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const second = loadOrCreateLogSigningKey({ env: {}, keyName: 'waygate-eu', localKeyFile: file });
    assert.equal(second.source, 'local-file');
    assert.equal(second.signer.verifierKey, first.signer.verifierKey);
    assert.equal(second.permissionsTooOpen, false);
    chmodSync(file, 0o644);
    assert.equal(loadOrCreateLogSigningKey({ env: {}, keyName: 'waygate-eu', localKeyFile: file }).permissionsTooOpen, true);
    writeFileSync(file, 'garbage\n');
    assert.throws(() => loadOrCreateLogSigningKey({ env: {}, keyName: 'waygate-eu', localKeyFile: file }), LogSigningKeyConfigError);
    assert.equal(readFileSync(file, 'utf8'), 'garbage\n', 'a malformed key file is never replaced');
  } finally {
    dir.remove();
  }
});
