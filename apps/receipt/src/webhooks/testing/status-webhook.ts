/** One status as Meta puts it in `value.statuses[]` (the recipient is filled in). */
export interface RawStatus {
  readonly id: string;
  readonly status: string;
  readonly timestamp: string;
  readonly errors?: unknown[];
  readonly biz_opaque_callback_data?: string;
}

/** The JSON text of a WhatsApp status webhook in Meta's shape (one entry of `wabaId`), for tests. */
export function statusWebhookJson(phoneNumberId: string, statuses: readonly RawStatus[], wabaId = '900'): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaId,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001111', phone_number_id: phoneNumberId },
              statuses: statuses.map((status) => ({ recipient_id: '4915112345678', ...status })),
            },
          },
        ],
      },
    ],
  });
}
