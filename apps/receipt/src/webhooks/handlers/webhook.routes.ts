import { createHash } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express } from 'express';
import helmet from 'helmet';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { RegionForwarder } from '../adapters/http-region-forwarder';
import type { RegionForward } from '../domain/region-forwarding';
import { createWebhookIntake, MAX_WEBHOOK_DEPTH } from '../domain/webhook-intake';
import { isSameSecret } from '../domain/webhook-signature';

/** Meta sends webhook bodies of up to 3 MB. */
export const MAX_WEBHOOK_BODY_BYTES = 3 * 1024 * 1024;

/**
 * Queues a verified webhook body durably; resolves once stored. `orderKey`: bodies with the same key are processed in
 * queue order (see `webhookOrderKey`); undefined: in any order.
 */
export type WebhookQueue = (body: Uint8Array, bodySha256: string, orderKey: string | undefined) => Promise<void>;

function sendError(res: express.Response, status: number, reason: string): void {
  res.status(status).json({ error: reason });
}

/**
 * The WhatsApp webhook endpoint. GET answers Meta's subscription handshake; POST verifies X-Hub-Signature-256 with
 * the app secret of the WABA each entry belongs to (see `createWebhookIntake`), queues the verified bytes on
 * JetStream and only then answers 200. Processing is asynchronous, so Meta gets a fast answer (one HMAC per secret,
 * one JSON parse and one JetStream publish) and nothing is lost if receipt crashes.
 */
export function createWebhookApp(options: {
  tenants: TenantDirectory;
  region: string;
  queue: WebhookQueue;
  logger: Logger;
  /** Carries other regions' template and account webhooks to them; without it they are dropped (logged). */
  forwarder?: RegionForwarder;
}): Express {
  const { tenants, region, queue, logger, forwarder } = options;

  /** Forwards each region its share; false (after logging) when one failed, so Meta retries the whole body. */
  const forwardAll = async (forwards: readonly RegionForward[]): Promise<boolean> => {
    for (const forward of forwards) {
      if (!forwarder?.has(forward.region)) {
        logger.warn(
          { region: forward.region, changes: forward.changes },
          'template/account webhook of another region dropped: no URL for it',
        );
        continue;
      }
      try {
        await forwarder.forward(forward);
        logger.info({ region: forward.region, changes: forward.changes }, 'template/account webhook forwarded to its region');
      } catch (error) {
        logger.error(
          { region: forward.region, reason: (error as Error).message },
          'could not forward webhook to its region; Meta will retry',
        );
        return false;
      }
    }
    return true;
  };
  const intake = createWebhookIntake(tenants, region);
  // Derived once per version of the (live) tenants directory.
  let tokens = { revision: -1, values: [] as string[] };
  const verifyTokens = (): string[] => {
    if (tokens.revision !== tenants.revision)
      tokens = { revision: tenants.revision, values: [...new Set(tenants.homedIn(region).map((tenant) => tenant.whatsapp.verifyToken))] };
    return tokens.values;
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(helmet());

  app.get('/webhooks/whatsapp', (req, res) => {
    const mode = req.query['hub.mode'];
    const token = req.query['hub.verify_token'];
    const challenge = req.query['hub.challenge'];
    if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string') {
      sendError(res, 400, 'expected hub.mode=subscribe with hub.verify_token and hub.challenge');
      return;
    }
    const matches = verifyTokens().filter((expected) => isSameSecret(token, expected)).length > 0;
    if (!matches) {
      logger.warn('webhook subscription handshake with an unknown verify token');
      sendError(res, 403, 'verify token does not match');
      return;
    }
    res.status(200).type('text/plain').send(challenge);
  });

  app.post('/webhooks/whatsapp', express.raw({ type: () => true, limit: MAX_WEBHOOK_BODY_BYTES }), async (req, res) => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const decision = intake(body, req.get('x-hub-signature-256'));
    if (decision.kind === 'unauthenticated') {
      logger.warn({ bytes: body.length, reason: decision.reason }, 'webhook refused: invalid X-Hub-Signature-256');
      sendError(res, 401, 'missing or invalid X-Hub-Signature-256');
      return;
    }
    // Other regions' shares go first: if one cannot be delivered, 503 makes Meta retry the body (queued bodies and
    // forwarded ones are deduplicated by their hash, so a retry stores nothing twice).
    if (!(await forwardAll(decision.forwards))) {
      sendError(res, 503, 'temporarily unable to accept webhooks');
      return;
    }
    if (decision.kind === 'ignored' && decision.forwards.length > 0) {
      res.status(200).json({ status: 'forwarded' });
      return;
    }
    if (decision.kind === 'ignored') {
      // Signed, but nothing to apply here: an error would make Meta retry it for days. Logged without content.
      logger.warn({ bytes: body.length, reason: decision.reason }, 'signed webhook ignored');
      res.status(200).json({ status: 'ignored', reason: decision.reason });
      return;
    }
    if (decision.droppedEntries > 0)
      logger.info({ dropped_entries: decision.droppedEntries }, 'webhook entries of other regions or unknown WABAs dropped');
    if (decision.nestingReplaced)
      logger.warn(
        { bytes: body.length, max_depth: MAX_WEBHOOK_DEPTH },
        'webhook parts nested too deep replaced by a marker before queuing',
      );
    const bodySha256 = createHash('sha256').update(body).digest('hex');
    try {
      await queue(decision.body, bodySha256, decision.orderKey);
    } catch (error) {
      logger.error({ err: error, body_sha256: bodySha256 }, 'could not queue webhook; Meta will retry');
      sendError(res, 503, 'temporarily unable to accept webhooks');
      return;
    }
    res.status(200).json({ status: 'queued' });
  });

  app.use((_req, res) => sendError(res, 404, 'not found'));
  const errorHandler: ErrorRequestHandler = (error: { status?: number; type?: string }, _req, res, next) => {
    if (res.headersSent) return next(error);
    if (error.type === 'entity.too.large') return sendError(res, 413, `body exceeds ${MAX_WEBHOOK_BODY_BYTES} bytes`);
    if (typeof error.status === 'number' && error.status >= 400 && error.status < 500) return sendError(res, error.status, 'bad request');
    logger.error({ err: error }, 'webhook endpoint error');
    sendError(res, 500, 'internal error');
  };
  app.use(errorHandler);
  return app;
}
