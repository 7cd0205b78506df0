import http from 'node:http';
import https from 'node:https';
import { randomInt } from 'node:crypto';
import { SimulatorInputError } from '../simulator-input-error';

/** Outcome of Meta's webhook verification request. */
export type HandshakeResult = { ok: true } | { ok: false; reason: string };

/** A verification endpoint has this long to answer. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;

// The echoed challenge is tiny; anything bigger is not an echo.
const MAX_HANDSHAKE_RESPONSE_BYTES = 64 * 1024;

/** Throws unless `url` is an absolute http(s) URL. */
export function assertWebhookUrl(url: unknown): asserts url is string {
  if (typeof url !== 'string') throw new SimulatorInputError('url must be a string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SimulatorInputError('url must be an absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new SimulatorInputError('url must use http or https');
  }
}

/** Meta's challenge is a random number sent as a string. */
export function newHandshakeChallenge(): string {
  return String(randomInt(100_000_000, 2_147_483_647));
}

/** Adds Meta's `hub.*` verification parameters to the callback URL, keeping any query it already has. */
export function buildVerificationUrl(callbackUrl: string, verifyToken: string, challenge: string): URL {
  const url = new URL(callbackUrl);
  url.searchParams.set('hub.mode', 'subscribe');
  url.searchParams.set('hub.verify_token', verifyToken);
  url.searchParams.set('hub.challenge', challenge);
  return url;
}

function fetchText(url: URL, signal: AbortSignal): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.get(url, { agent: false, signal }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_HANDSHAKE_RESPONSE_BYTES) request.destroy(new Error('verification response too large'));
        else chunks.push(chunk);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.setTimeout(HANDSHAKE_TIMEOUT_MS, () => request.destroy(new Error(`no response within ${HANDSHAKE_TIMEOUT_MS} ms`)));
    request.on('error', reject);
  });
}

/**
 * Performs Meta's subscription verification: `GET callback?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..`
 * must answer 200 with exactly the challenge as body.
 */
export async function verifyWebhookSubscription(callbackUrl: string, verifyToken: string, signal: AbortSignal): Promise<HandshakeResult> {
  const challenge = newHandshakeChallenge();
  let response: { status: number; text: string };
  try {
    response = await fetchText(buildVerificationUrl(callbackUrl, verifyToken, challenge), signal);
  } catch (error) {
    return { ok: false, reason: `verification request failed: ${(error as Error).message}` };
  }
  if (response.status !== 200) {
    return { ok: false, reason: `verification request answered HTTP ${response.status}` };
  }
  if (response.text.trim() !== challenge) {
    return { ok: false, reason: 'verification response did not echo hub.challenge' };
  }
  return { ok: true };
}
