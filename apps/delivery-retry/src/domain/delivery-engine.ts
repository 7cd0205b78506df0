import type { Clock } from '@waygate/domain';
import type { Delivery } from './delivery';
import { DeliveryAttempt } from './delivery-attempt';
import type { MediaResolver } from './media-resolver';
import type { SealedParameterOpener } from './sealed-parameters';
import { cancelDelivery, type CancelOutcome } from './delivery-cancellation';
import type {
  AcceptedMessage,
  DeliveryMetrics,
  EngineEvents,
  EngineSettings,
  PhoneNumberLookup,
  StatusPublisher,
  WebhookStatusReport,
} from './delivery-ports';
import { DeliveryRecorder } from './delivery-recorder';
import { DeliveryScheduler } from './delivery-scheduler';
import type { DeliveryStore } from './delivery-store';
import { SendPacer } from './send-pacer';
import { WebhookReconciler } from './webhook-reconciler';
import type { WhatsAppClient } from './whatsapp-client';

export type { CancelOutcome } from './delivery-cancellation';
export type {
  AcceptedMessage,
  DeliveryMetrics,
  EngineEvents,
  EngineSettings,
  PhoneNumberLookup,
  StatusPublisher,
  WebhookStatusReport,
} from './delivery-ports';

/** delivery-retry's domain as the handlers see it. */
export interface DeliveryEngine {
  /** Records an accepted message durably (idempotent); it is attempted by the scheduler. */
  intake(message: AcceptedMessage): Promise<Delivery>;
  /** One scheduler pass: expire what is overdue, attempt what is due (waiting for the attempts), publish the outbox. */
  runOnce(): Promise<{ attempted: number; expired: number; announced: number }>;
  /** Runs passes continuously until stop(). */
  start(): void;
  stop(): Promise<void>;
  /** Wakes an idle scheduler (new work arrived). */
  wake(): void;
  cancel(tenantId: string, messageId: string): Promise<CancelOutcome>;
  applyWebhookStatus(report: WebhookStatusReport): Promise<'applied' | 'ignored'>;
  get(tenantId: string, messageId: string): Promise<Delivery | undefined>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Wires delivery-retry's domain from its parts: the scheduler loop (delivery-scheduler.ts), one attempt per claimed
 * delivery (delivery-attempt.ts) paced by the governor (send-pacer.ts), webhook reconciliation (the pure decision in
 * webhook-reconciliation.ts, applied by webhook-reconciler.ts), cancellation, and the outbox every outcome is
 * recorded and announced through (delivery-recorder.ts).
 */
export function createDeliveryEngine(deps: {
  store: DeliveryStore;
  client: WhatsAppClient;
  /** Uploads media sent by media-store id (see AttemptDeps.media). */
  media?: MediaResolver;
  /** Opens sealed authentication codes at send time (see AttemptDeps.sealed). */
  sealed?: SealedParameterOpener;
  publisher: StatusPublisher;
  phoneNumber: PhoneNumberLookup;
  clock: Clock;
  settings: EngineSettings;
  metrics: DeliveryMetrics;
  events?: EngineEvents;
  random?: () => number;
  /** Waits for a reserved send slot; injectable so tests with a simulated clock do not sleep. */
  waitUntil?: (atMs: number) => Promise<void>;
}): DeliveryEngine {
  const { store, clock, settings, metrics } = deps;
  const random = deps.random ?? Math.random;
  const recorder = new DeliveryRecorder(store, deps.publisher);
  const pacer = new SendPacer(store, settings.governor, () => clock.now().getTime());
  const attempt = new DeliveryAttempt({
    store,
    recorder,
    pacer,
    client: deps.client,
    ...(deps.media ? { media: deps.media } : {}),
    ...(deps.sealed ? { sealed: deps.sealed } : {}),
    phoneNumber: deps.phoneNumber,
    clock,
    metrics,
    settings,
    random,
    waitUntil: deps.waitUntil ?? ((atMs) => sleep(Math.max(0, atMs - clock.now().getTime()))),
  });
  const scheduler = new DeliveryScheduler({
    store,
    recorder,
    attempt,
    openCircuits: () => pacer.openCircuits(),
    clock,
    metrics,
    events: deps.events,
    settings,
  });
  const reconciler = new WebhookReconciler({ recorder, clock, metrics, options: { retry: settings.retry, random } });

  return {
    intake: (message) => scheduler.intake(message),
    runOnce: () => scheduler.runOnce(),
    start: () => scheduler.start(),
    stop: () => scheduler.stop(),
    wake: () => scheduler.wake(),
    cancel: (tenantId, messageId) => cancelDelivery({ store, recorder, clock }, tenantId, messageId),
    applyWebhookStatus: (report) => reconciler.apply(report),
    get: async (tenantId, messageId) => (await store.get(tenantId, messageId))?.delivery,
  };
}
