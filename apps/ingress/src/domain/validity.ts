import type { MessageContent } from './outbound-message';

/**
 * What kind of message something is, for how long Waygate keeps trying to deliver it by default. Free-form text is
 * `text`; template messages take their WhatsApp template category (templates are not accepted yet).
 */
export type MessageCategory = 'text' | 'authentication' | 'utility' | 'marketing' | 'service';

const MINUTE = 60;
const DAY = 24 * 60 * MINUTE;

/** The longest validity any message may have: 30 days. */
export const MAX_VALIDITY_SECONDS = 30 * DAY;

/**
 * Default validity per category. A one-time password is useless after a few minutes, and delivering it late only
 * confuses the customer, so authentication templates default to 10 minutes; everything else to the maximum.
 */
const DEFAULT_VALIDITY_SECONDS: Readonly<Record<MessageCategory, number>> = {
  authentication: 10 * MINUTE,
  text: MAX_VALIDITY_SECONDS,
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
  }
}
