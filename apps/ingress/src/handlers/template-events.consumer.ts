import { decodeEvent } from '@waygate/contracts';
import { ACK, type HandlerOutcome } from '@waygate/nats';
import { TemplateEvent, TemplateEventKind } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { TemplateSync, TemplateUpdate } from '../domain/template-sync';

const KINDS: Partial<Readonly<Record<TemplateEventKind, TemplateUpdate['kind']>>> = {
  [TemplateEventKind.TEMPLATE_EVENT_KIND_STATUS_UPDATE]: 'status',
  [TemplateEventKind.TEMPLATE_EVENT_KIND_QUALITY_UPDATE]: 'quality',
  [TemplateEventKind.TEMPLATE_EVENT_KIND_COMPONENTS_UPDATE]: 'components',
  [TemplateEventKind.TEMPLATE_EVENT_KIND_CATEGORY_UPDATE]: 'category',
};

/**
 * Applies TemplateEvents (receipt's translation of Meta's template webhooks) to the template catalog: the change at
 * once, then a re-sync of the WABA in the background. Applying an event twice has the effect of once. Routed here from
 * ingress's `events.>` consumer for the templates subject (server.ts).
 */
export function createTemplateEventsHandler(sync: TemplateSync, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(TemplateEvent, data);
    const kind = event && KINDS[event.kind];
    if (!event || !kind || !event.wabaId || !event.eventId) return { kind: 'reject', reason: 'not a valid TemplateEvent' };
    const applied = await sync.applyUpdate({
      eventId: event.eventId,
      wabaId: event.wabaId,
      kind,
      templateId: event.templateId,
      name: event.name,
      language: event.language,
      value: event.value,
      receivedAt: event.receivedAt ?? new Date(),
    });
    logger.info(
      {
        event_id: event.eventId,
        waba_id: event.wabaId,
        template_id: event.templateId,
        kind,
        value: event.value,
        catalogs_updated: applied,
      },
      'template event',
    );
    return ACK;
  };
}
