import type { Clock } from '@waygate/domain';
import type { DeliveryMetrics, WebhookStatusReport } from './delivery-ports';
import type { DeliveryRecorder } from './delivery-recorder';
import {
  decideWebhookReconciliation,
  reconciliationWrite,
  type ReconciliationOptions,
  type WebhookReconciliation,
} from './webhook-reconciliation';

/**
 * Applies webhook statuses to deliveries: reads the delivery, lets the pure `decideWebhookReconciliation` choose, and
 * records the result with its event through the outbox (again with a fresh read if another writer got in between).
 */
export class WebhookReconciler {
  constructor(
    private readonly deps: {
      readonly recorder: DeliveryRecorder;
      readonly clock: Clock;
      readonly metrics: Pick<DeliveryMetrics, 'retry' | 'expired'>;
      readonly options: ReconciliationOptions;
    },
  ) {}

  /** Applies one report; 'ignored' when it changes nothing (see `IgnoreReason`). */
  apply(report: WebhookStatusReport): Promise<'applied' | 'ignored'> {
    const { recorder, clock, metrics, options } = this.deps;
    return recorder.withLatest(report.tenantId, report.messageId, async (stored) => {
      const now = clock.now();
      const action: WebhookReconciliation = decideWebhookReconciliation(stored?.delivery, report, now, options);
      const write = stored ? reconciliationWrite(stored.delivery, action, now) : undefined;
      if (!stored || !write) return 'ignored';
      if (!(await recorder.write(stored, write.update, write.event))) return 'conflict';
      if (action.kind === 'reschedule') metrics.retry(action.reason);
      if (action.kind === 'expire') metrics.expired();
      return 'applied';
    });
  }
}
