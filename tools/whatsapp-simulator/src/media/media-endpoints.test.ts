import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { MetaErrorResponseBody } from '../cloud-api/meta-errors';
import type { SimulatorPhoneNumber } from '../types';
import { MAX_UPLOAD_BODY_BYTES, MEDIA_DOWNLOAD_PATH, handleMediaRequest, type MediaEndpointDeps } from './media-endpoints';
import { SimulatorInputError } from '../simulator-input-error';
import { MediaDownloadFaults, parseMediaDownloadFaultRule } from './media-download-faults';
import { DOWNLOAD_URL_TTL_MS, MEDIA_LIMITS, MediaLibrary, UPLOAD_RETENTION_MS } from './media-library';

const PHONE_A: SimulatorPhoneNumber = { id: '1000001', displayPhoneNumber: '+1 555 0001', accessToken: 'token-a', wabaId: 'waba-a' };
const PHONE_B: SimulatorPhoneNumber = { id: '2000002', displayPhoneNumber: '+1 555 0002', accessToken: 'token-b', wabaId: 'waba-b' };
const PHONES = [PHONE_A, PHONE_B];

interface MediaJson extends Partial<MetaErrorResponseBody> {
  id?: string;
  url?: string;
  mime_type?: string;
  sha256?: string;
  file_size?: number;
  messaging_product?: string;
  success?: boolean;
}

/** The simulator's clock as the handler sees it; tests move it instead of waiting. */
const clock = { now: 1_750_000_000_000, nowMs: (): number => clock.now };
let library: MediaLibrary;
let downloadFaults: MediaDownloadFaults;
const cutOffs: { mediaId: string; afterBytes: number }[] = [];
let server: http.Server;
let base: string;
let handledAll = true;

before(async () => {
  server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', base);
    const deps: MediaEndpointDeps = {
      library,
      findPhoneNumber: (id) => PHONES.find((phone) => phone.id === id),
      phoneNumbersForToken: (token) => PHONES.filter((phone) => phone.accessToken === token),
      newFbtraceId: () => 'Atrace',
      baseUrl: () => base,
      downloadFaults,
      onDownloadCutOff: (media, afterBytes) => cutOffs.push({ mediaId: media.id, afterBytes }),
    };
    handleMediaRequest(request, response, url, deps).then(
      (handled) => {
        if (handled) return;
        handledAll = false;
        response.writeHead(418).end();
      },
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  let next = 5_000;
  library = new MediaLibrary({ clock, newMediaId: () => String((next += 1)) });
  downloadFaults = new MediaDownloadFaults();
  cutOffs.length = 0;
  handledAll = true;
});

function auth(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

function uploadForm(
  bytes: Buffer,
  mimeType: string,
  fields: Record<string, string> = { messaging_product: 'whatsapp', type: mimeType },
): FormData {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: mimeType }), 'file.bin');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
}

async function upload(
  form: FormData | string,
  token = PHONE_A.accessToken,
  phoneId = PHONE_A.id,
): Promise<{ status: number; json: MediaJson }> {
  const response = await fetch(`${base}/v23.0/${phoneId}/media`, { method: 'POST', headers: auth(token), body: form });
  return { status: response.status, json: (await response.json()) as MediaJson };
}

async function graph(method: 'GET' | 'DELETE', path: string, token?: string): Promise<{ status: number; json: MediaJson }> {
  const response = await fetch(`${base}${path}`, { method, headers: token === undefined ? {} : auth(token) });
  return { status: response.status, json: (await response.json()) as MediaJson };
}

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(2_000, 7)]);

async function uploadPng(): Promise<string> {
  const { status, json } = await upload(uploadForm(PNG, 'image/png'));
  assert.equal(status, 200);
  assert.ok(json.id);
  return json.id;
}

describe('media endpoints: round trip', () => {
  test('upload -> retrieve -> download returns the same bytes', async () => {
    const id = await uploadPng();
    const { status, json } = await graph('GET', `/v23.0/${id}`, PHONE_A.accessToken);
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(json), ['messaging_product', 'url', 'mime_type', 'sha256', 'file_size', 'id']);
    assert.equal(json.messaging_product, 'whatsapp');
    assert.equal(json.mime_type, 'image/png');
    assert.equal(json.sha256, createHash('sha256').update(PNG).digest('hex'));
    assert.equal(json.file_size, PNG.length);
    assert.equal(json.id, id);
    assert.ok(json.url?.startsWith(`${base}${MEDIA_DOWNLOAD_PATH}?`));
    assert.doesNotMatch(json.url ?? '', /token/);

    const download = await fetch(json.url ?? '', { headers: auth(PHONE_A.accessToken) });
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'image/png');
    assert.equal(download.headers.get('content-length'), String(PNG.length));
    const bytes = Buffer.from(await download.arrayBuffer());
    assert.equal(createHash('sha256').update(bytes).digest('hex'), json.sha256);
  });

  test('accepts the token as access_token query parameter on Graph endpoints', async () => {
    const id = await uploadPng();
    const { status } = await graph('GET', `/v23.0/${id}?access_token=${PHONE_A.accessToken}`);
    assert.equal(status, 200);
  });

  test('checks phone_number_id when given', async () => {
    const id = await uploadPng();
    assert.equal((await graph('GET', `/v23.0/${id}?phone_number_id=${PHONE_A.id}`, PHONE_A.accessToken)).status, 200);
    const mismatch = await graph('GET', `/v23.0/${id}?phone_number_id=999`, PHONE_A.accessToken);
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.json.error?.code, 100);
    assert.match(mismatch.json.error?.message ?? '', /phone_number_id/);
    // Media a customer sent was not uploaded on a business number, so the check always fails for it.
    const inbound = library.storeInbound({ phoneNumberId: PHONE_A.id, mimeType: 'image/jpeg', bytes: PNG });
    assert.equal((await graph('GET', `/v23.0/${inbound.id}`, PHONE_A.accessToken)).status, 200);
    assert.equal((await graph('GET', `/v23.0/${inbound.id}?phone_number_id=${PHONE_A.id}`, PHONE_A.accessToken)).status, 400);
  });

  test('delete answers success and the media is gone afterwards', async () => {
    const id = await uploadPng();
    const { json: retrieved } = await graph('GET', `/v23.0/${id}`, PHONE_A.accessToken);
    const deleted = await graph('DELETE', `/v23.0/${id}`, PHONE_A.accessToken);
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.json, { success: true });
    const again = await graph('GET', `/v23.0/${id}`, PHONE_A.accessToken);
    assert.equal(again.status, 400);
    assert.equal(again.json.error?.code, 100);
    assert.equal(again.json.error?.error_subcode, 33);
    assert.equal((await graph('DELETE', `/v23.0/${id}`, PHONE_A.accessToken)).status, 400);
    assert.equal((await fetch(retrieved.url ?? '', { headers: auth(PHONE_A.accessToken) })).status, 404);
  });
});

/** GETs a URL over a raw connection: the declared length, the bytes that arrived, and whether the body ended cleanly. */
function rawDownload(url: string, token: string): Promise<{ status: number; declared: number; received: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: auth(token) }, (response) => {
      let received = 0;
      response.on('data', (chunk: Buffer) => (received += chunk.length));
      const done = (complete: boolean) =>
        resolve({ status: response.statusCode ?? 0, declared: Number(response.headers['content-length']), received, complete });
      response.on('end', () => done(response.complete));
      response.on('aborted', () => done(false));
      response.on('error', () => done(false));
    });
    request.on('error', reject);
  });
}

describe('media endpoints: download faults', () => {
  test('a cut-off download declares the whole size, sends part of it and drops the connection; the next one is whole', async () => {
    const id = await uploadPng();
    const other = await uploadPng();
    downloadFaults.add(parseMediaDownloadFaultRule({ mediaId: id, count: 1, afterBytes: 100 }));
    const { json } = await graph('GET', `/v23.0/${id}`, PHONE_A.accessToken);
    const cut = await rawDownload(json.url ?? '', PHONE_A.accessToken);
    assert.deepEqual(cut, { status: 200, declared: PNG.length, received: 100, complete: false });
    assert.deepEqual(cutOffs, [{ mediaId: id, afterBytes: 100 }]);
    // fetch reports the short body as a failure while reading it.
    downloadFaults.add(parseMediaDownloadFaultRule({ mediaId: id, count: 1 }));
    const response = await fetch(json.url ?? '', { headers: auth(PHONE_A.accessToken) });
    assert.equal(response.status, 200);
    await assert.rejects(response.arrayBuffer(), /terminated/);
    assert.deepEqual(cutOffs[1], { mediaId: id, afterBytes: PNG.length / 2 }, 'half the file by default');

    // The count is used up: whole again; other media were never affected.
    assert.deepEqual(await rawDownload(json.url ?? '', PHONE_A.accessToken), {
      status: 200,
      declared: PNG.length,
      received: PNG.length,
      complete: true,
    });
    const { json: otherJson } = await graph('GET', `/v23.0/${other}`, PHONE_A.accessToken);
    assert.equal((await rawDownload(otherJson.url ?? '', PHONE_A.accessToken)).complete, true);
    assert.equal(cutOffs.length, 2);
  });

  test('without a count every download is cut until cleared; afterBytes never reaches the whole file', async () => {
    const id = await uploadPng();
    downloadFaults.add(parseMediaDownloadFaultRule({ afterBytes: 10 * PNG.length }));
    const { json } = await graph('GET', `/v23.0/${id}`, PHONE_A.accessToken);
    for (let attempt = 0; attempt < 3; attempt++) {
      const cut = await rawDownload(json.url ?? '', PHONE_A.accessToken);
      assert.deepEqual([cut.received, cut.complete], [PNG.length - 1, false]);
    }
    downloadFaults.clear();
    assert.equal((await rawDownload(json.url ?? '', PHONE_A.accessToken)).complete, true);
  });

  test('rules are checked', () => {
    for (const bad of [null, [], { count: 0 }, { count: 1.5 }, { afterBytes: -1 }, { mediaId: 'abc' }, { fault: 'slow' }])
      assert.throws(() => parseMediaDownloadFaultRule(bad), SimulatorInputError, JSON.stringify(bad));
    assert.deepEqual(parseMediaDownloadFaultRule({ mediaId: '123', count: 2, afterBytes: 0 }), { mediaId: '123', count: 2, afterBytes: 0 });
  });
});

describe('media endpoints: expiry on the simulated clock', () => {
  test('the download URL expires after 5 minutes', async () => {
    const id = await uploadPng();
    const { json } = await graph('GET', `/v23.0/${id}`, PHONE_A.accessToken);
    clock.now += DOWNLOAD_URL_TTL_MS - 1_000;
    assert.equal((await fetch(json.url ?? '', { headers: auth(PHONE_A.accessToken) })).status, 200);
    clock.now += 1_000;
    const expired = await fetch(json.url ?? '', { headers: auth(PHONE_A.accessToken) });
    assert.equal(expired.status, 404);
    // A fresh retrieve hands out a working URL again.
    const { json: fresh } = await graph('GET', `/v23.0/${id}`, PHONE_A.accessToken);
    assert.equal((await fetch(fresh.url ?? '', { headers: auth(PHONE_A.accessToken) })).status, 200);
  });

  test('uploaded media is gone after 30 days', async () => {
    const id = await uploadPng();
    clock.now += UPLOAD_RETENTION_MS - 1;
    assert.equal((await graph('GET', `/v23.0/${id}`, PHONE_A.accessToken)).status, 200);
    clock.now += 1;
    const gone = await graph('GET', `/v23.0/${id}`, PHONE_A.accessToken);
    assert.equal(gone.status, 400);
    assert.equal(gone.json.error?.error_subcode, 33);
  });
});

describe('media endpoints: authentication', () => {
  test('missing or unknown tokens get 401 / 190', async () => {
    const id = await uploadPng();
    for (const result of [
      await graph('GET', `/v23.0/${id}`),
      await graph('GET', `/v23.0/${id}`, 'nope'),
      await upload(uploadForm(PNG, 'image/png'), 'nope'),
    ]) {
      assert.equal(result.status, 401);
      assert.equal(result.json.error?.code, 190);
      assert.equal(result.json.error?.fbtrace_id, 'Atrace');
    }
  });

  test("another number's token gets Graph API's unknown-object 400", async () => {
    const id = await uploadPng();
    for (const result of [
      await graph('GET', `/v23.0/${id}`, PHONE_B.accessToken),
      await graph('DELETE', `/v23.0/${id}`, PHONE_B.accessToken),
      await upload(uploadForm(PNG, 'image/png'), PHONE_B.accessToken, PHONE_A.id),
      await upload(uploadForm(PNG, 'image/png'), PHONE_A.accessToken, '31337'),
    ]) {
      assert.equal(result.status, 400);
      assert.equal(result.json.error?.code, 100);
      assert.equal(result.json.error?.error_subcode, 33);
    }
    assert.ok(library.get(id), 'a rejected DELETE must not delete');
  });

  test('downloads need the Authorization header of a token allowed for the media', async () => {
    const id = await uploadPng();
    const { json } = await graph('GET', `/v23.0/${id}`, PHONE_A.accessToken);
    const url = json.url ?? '';
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(`${url}&access_token=${PHONE_A.accessToken}`)).status, 401);
    assert.equal((await fetch(url, { headers: auth('nope') })).status, 401);
    assert.equal((await fetch(url, { headers: auth(PHONE_B.accessToken) })).status, 404);
  });

  test('a forged or altered download URL is rejected with 404', async () => {
    const id = await uploadPng();
    const { json } = await graph('GET', `/v23.0/${id}`, PHONE_A.accessToken);
    const forged = new URL(json.url ?? '');
    forged.searchParams.set('hash', 'x'.repeat(43));
    const response = await fetch(forged, { headers: auth(PHONE_A.accessToken) });
    assert.equal(response.status, 404);
    const body = (await response.json()) as MediaJson;
    assert.equal(body.error?.fbtrace_id, 'Atrace');
    const extended = new URL(json.url ?? '');
    extended.searchParams.set('ext', String(Number(extended.searchParams.get('ext')) + 86_400));
    assert.equal((await fetch(extended, { headers: auth(PHONE_A.accessToken) })).status, 404);
  });
});

describe('media endpoints: upload validation', () => {
  test("rejects unsupported MIME types with Meta's message", async () => {
    const { status, json } = await upload(uploadForm(Buffer.from('<html></html>'), 'text/html'));
    assert.equal(status, 400);
    assert.equal(json.error?.code, 100);
    assert.match(
      json.error?.message ?? '',
      /^\(#100\) Param file must be a file with one of the following types: audio\/aac, .*video\/3gpp\. Received file of type 'text\/html'\.$/,
    );
  });

  test('rejects an image just over 5 MB with 131053', async () => {
    const bytes = Buffer.alloc(MEDIA_LIMITS.image.maxBytes + 1, 1);
    const { status, json } = await upload(uploadForm(bytes, 'image/jpeg'));
    assert.equal(status, 400);
    assert.equal(json.error?.code, 131053);
    assert.match(json.error?.error_data?.details ?? '', /5242881 bytes.*at most 5242880 bytes/);
    assert.equal((await upload(uploadForm(bytes.subarray(1), 'image/jpeg'))).status, 200);
  });

  test('rejects a static sticker over 100 KB', async () => {
    const { status, json } = await upload(uploadForm(Buffer.alloc(100 * 1024 + 1), 'image/webp'));
    assert.equal(status, 400);
    assert.equal(json.error?.code, 131053);
  });

  test('requires messaging_product=whatsapp, file and type', async () => {
    const noProduct = await upload(uploadForm(PNG, 'image/png', { type: 'image/png' }));
    assert.equal(noProduct.status, 400);
    assert.equal(noProduct.json.error?.message, '(#100) The parameter messaging_product is required.');
    const wrongProduct = await upload(uploadForm(PNG, 'image/png', { type: 'image/png', messaging_product: 'sms' }));
    assert.equal(wrongProduct.status, 400);
    const noFile = new FormData();
    noFile.append('messaging_product', 'whatsapp');
    noFile.append('type', 'image/png');
    assert.equal((await upload(noFile)).json.error?.message, '(#100) The parameter file is required.');
    const noType = await upload(uploadForm(PNG, 'image/png', { messaging_product: 'whatsapp' }));
    assert.equal(noType.json.error?.message, '(#100) The parameter type is required.');
    const mismatch = await upload(uploadForm(PNG, 'image/png', { messaging_product: 'whatsapp', type: 'image/jpeg' }));
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.json.error?.error_data?.details ?? '', /does not match/);
  });

  test('rejects non-multipart and malformed bodies with 400 and details', async () => {
    const json = await fetch(`${base}/v23.0/${PHONE_A.id}/media`, {
      method: 'POST',
      headers: { ...auth(PHONE_A.accessToken), 'Content-Type': 'application/json' },
      body: JSON.stringify({ messaging_product: 'whatsapp' }),
    });
    assert.equal(json.status, 400);
    assert.match(((await json.json()) as MediaJson).error?.error_data?.details ?? '', /multipart\/form-data/);
    const malformed = await fetch(`${base}/v23.0/${PHONE_A.id}/media`, {
      method: 'POST',
      headers: { ...auth(PHONE_A.accessToken), 'Content-Type': 'multipart/form-data; boundary=zzz' },
      body: 'this is not multipart',
    });
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as MediaJson).error?.error_data?.details ?? '', /not valid multipart/);
  });

  test('drains a body over the hard limit and answers 413 without buffering it', async () => {
    const response = await fetch(`${base}/v23.0/${PHONE_A.id}/media`, {
      method: 'POST',
      headers: { ...auth(PHONE_A.accessToken), 'Content-Type': 'multipart/form-data; boundary=zzz' },
      body: new Uint8Array(MAX_UPLOAD_BODY_BYTES + 1),
    });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as MediaJson).error?.code, 100);
  });
});

describe('media endpoints: routing', () => {
  test('resolves false for paths that are not media routes', async () => {
    for (const [method, path] of [
      ['POST', `/v23.0/${PHONE_A.id}/messages`],
      ['GET', '/healthz'],
      ['POST', '/v23.0/12345'],
      ['GET', '/v23.0/12345/extra'],
      ['GET', '/x23.0/12345'],
    ] as const) {
      handledAll = true;
      const response = await fetch(`${base}${path}`, { method, headers: auth(PHONE_A.accessToken) });
      assert.equal(response.status, 418, `${method} ${path}`);
      assert.equal(handledAll, false);
    }
  });

  test('answers unknown ids under /{version}/{id} with unknown-object errors', async () => {
    const { status, json } = await graph('GET', '/v21.0/777', PHONE_A.accessToken);
    assert.equal(status, 400);
    assert.match(json.error?.message ?? '', /Unsupported get request\. Object with ID '777' does not exist/);
  });
});
