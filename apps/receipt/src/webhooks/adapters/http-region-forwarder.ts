import type { RegionForward } from '../domain/region-forwarding';

/** Sends a region its share of a webhook. */
export interface RegionForwarder {
  /** Whether a webhook URL is configured for `region`. */
  has(region: string): boolean;
  /** POSTs it to the region's receipt; resolves on a 2xx answer, rejects otherwise (Meta then retries the whole body). */
  forward(forward: RegionForward): Promise<void>;
}

/**
 * Forwards template and account webhooks to the receipt of the region owning their WABA (WAYGATE_REGION_WEBHOOK_URLS)
 * exactly as Meta would post them: the JSON body with `X-Hub-Signature-256` of the owner's app secret, which that
 * region's receipt checks like any webhook. A redirect is not followed; the answer's body is never read.
 */
export function createHttpRegionForwarder(options: { urls: Readonly<Record<string, string>>; timeoutMs: number }): RegionForwarder {
  return {
    has: (region) => options.urls[region] !== undefined,
    async forward(forward) {
      const url = options.urls[forward.region];
      if (url === undefined) throw new Error(`no webhook URL for region ${forward.region}`);
      let status: number;
      try {
        const response = await fetch(url, {
          method: 'POST',
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
          headers: {
            'content-type': 'application/json',
            'x-hub-signature-256': forward.signature,
            'user-agent': 'Waygate-Receipt-Forward/1',
          },
          body: forward.body,
        });
        status = response.status;
        await response.body?.cancel().catch(() => undefined);
      } catch (error) {
        const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
        throw new Error(
          timedOut ? `region ${forward.region}: no answer within ${options.timeoutMs} ms` : `region ${forward.region}: connection failed`,
        );
      }
      if (status < 200 || status >= 300) throw new Error(`region ${forward.region}: HTTP ${status}`);
    },
  };
}
