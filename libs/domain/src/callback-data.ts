/**
 * `biz_opaque_callback_data`: delivery-retry sends `waygate:<message id>` with every message, Meta echoes it in every
 * status webhook, and receipt reads the message id back from it (a status whose send answer was lost still finds its
 * message). One format for both sides.
 */
const PREFIX = 'waygate:';
const CALLBACK_DATA = /^waygate:([A-Za-z0-9_-]{1,128})$/;

/** The callback data delivery-retry sends with a message. */
export function callbackDataFor(messageId: string): string {
  return `${PREFIX}${messageId}`;
}

/** The message id in callback data Waygate sent; undefined for anything else (another sender's data, garbage). */
export function messageIdFromCallbackData(callbackData: string | undefined): string | undefined {
  return CALLBACK_DATA.exec(callbackData ?? '')?.[1];
}
