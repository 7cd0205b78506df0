import { ACK, type DeliveryInfo, type HandlerOutcome } from './jetstream';

/** Handles one event of a subject. */
export type SubjectHandler = (data: Uint8Array, info: DeliveryInfo) => Promise<HandlerOutcome>;

/**
 * One consumer, many event kinds: routes each event to the handler of its exact subject. Several kinds share one
 * stream and one `events.>` consumer so that their order is kept; an event on a subject with no route is none of
 * this consumer's business (a kind added later, or another service's) and is acknowledged untouched, never rejected.
 */
export function routeBySubject(
  routes: Readonly<Record<string, SubjectHandler>>,
  onUnrouted?: (info: DeliveryInfo) => void,
): SubjectHandler {
  const table = new Map(Object.entries(routes));
  return async (data, info) => {
    const handler = table.get(info.subject);
    if (handler) return handler(data, info);
    onUnrouted?.(info);
    return ACK;
  };
}
