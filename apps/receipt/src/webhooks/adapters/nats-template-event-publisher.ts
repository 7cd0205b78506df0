import type { JetStreamClient } from 'nats';
import { publishEvent, regionSubjects } from '@waygate/nats';
import { TemplateEvent, TemplateEventKind } from '@waygate/proto';
import type { TemplateEventPublisher } from '../domain/receipt-service';
import type { TemplateWebhookKind } from '../domain/template-webhook';

const KINDS: Readonly<Record<TemplateWebhookKind, TemplateEventKind>> = {
  status: TemplateEventKind.TEMPLATE_EVENT_KIND_STATUS_UPDATE,
  quality: TemplateEventKind.TEMPLATE_EVENT_KIND_QUALITY_UPDATE,
  components: TemplateEventKind.TEMPLATE_EVENT_KIND_COMPONENTS_UPDATE,
  category: TemplateEventKind.TEMPLATE_EVENT_KIND_CATEGORY_UPDATE,
};

/** Publishes TemplateEvent on `waygate.<region>.events.templates`, with its event id as Nats-Msg-Id. */
export function createNatsTemplateEventPublisher(js: JetStreamClient, region: string): TemplateEventPublisher {
  const subject = regionSubjects(region).templateEvents;
  return {
    async publish(change, receivedAt) {
      const event: TemplateEvent = {
        eventId: change.eventId,
        wabaId: change.wabaId,
        kind: KINDS[change.kind],
        templateId: change.templateId,
        name: change.name,
        language: change.language,
        value: change.value,
        rawJson: change.rawJson,
        receivedAt,
      };
      await publishEvent(js, subject, TemplateEvent.encode(event).finish(), change.eventId);
    },
  };
}
