import type { MessageContent } from '@waygate/domain';

/**
 * What kind of message something is, for how long Waygate keeps trying to deliver it by default. Free-form text is
 * `text`; template messages take their WhatsApp template category from the catalog (a send policy adds it as
 * SendFacts.defaultValiditySeconds; `template` is the default before that is known). Other free-form kinds (media,
 * interactive, location, contacts, reactions) are `service`.
 */
export type MessageCategory = 'text' | 'template' | 'authentication' | 'utility' | 'marketing' | 'service';

const MINUTE = 60;
const DAY = 24 * 60 * MINUTE;

/** The longest validity any message may have: 30 days. */
export const MAX_VALIDITY_SECONDS = 30 * DAY;

/**
 * The shortest validity a request may ask for: 30 seconds. A shorter one would expire before delivery-retry's first
 * attempt can finish (a Cloud API call may take its 10-second timeout), so the message could only ever be EXPIRED.
 */
export const MIN_VALIDITY_SECONDS = 30;

/**
 * The limits of a `google.protobuf.Duration`: seconds within ±10,000 years, nanos within ±999,999,999 and of the
 * same sign as seconds (a negative duration has both negative). Anything else is not a duration at all.
 */
const MAX_DURATION_SECONDS = 315_576_000_000;
const MAX_DURATION_NANOS = 999_999_999;

/** A validity as the request gave it: a google.protobuf.Duration's two fields, not yet checked. */
export interface RequestedValidity {
  readonly seconds: number;
  readonly nanos: number;
}

/**
 * Which field makes `duration` not a google.protobuf.Duration at all: `seconds` beyond ±10,000 years, or `nanos`
 * beyond ±999,999,999 or signed unlike `seconds`. Undefined for a well-formed duration.
 */
export function malformedDurationField({ seconds, nanos }: RequestedValidity): 'seconds' | 'nanos' | undefined {
  if (!Number.isInteger(seconds) || Math.abs(seconds) > MAX_DURATION_SECONDS) return 'seconds';
  if (!Number.isInteger(nanos) || Math.abs(nanos) > MAX_DURATION_NANOS) return 'nanos';
  if ((seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) return 'nanos';
  return undefined;
}

/**
 * Default validity per category. A one-time password is useless after a few minutes, and delivering it late only
 * confuses the customer, so authentication templates default to 10 minutes; everything else to the maximum.
 */
const DEFAULT_VALIDITY_SECONDS: Readonly<Record<MessageCategory, number>> = {
  authentication: 10 * MINUTE,
  text: MAX_VALIDITY_SECONDS,
  template: MAX_VALIDITY_SECONDS,
  utility: MAX_VALIDITY_SECONDS,
  marketing: MAX_VALIDITY_SECONDS,
  service: MAX_VALIDITY_SECONDS,
};

/** How long a message of `category` stays valid when the request does not say. */
export function defaultValiditySeconds(category: MessageCategory): number {
  return DEFAULT_VALIDITY_SECONDS[category];
}

/** The category of a message's content. */
export function categoryOf(content: MessageContent): MessageCategory {
  switch (content.kind) {
    case 'text':
      return 'text';
    case 'template':
      return 'template';
    default:
      return 'service';
  }
}
