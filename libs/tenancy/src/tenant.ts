/** A WhatsApp business phone number of a tenant, with the Cloud API token that sends from it. */
export interface WhatsAppPhoneNumber {
  readonly id: string;
  readonly displayPhoneNumber: string;
  readonly accessToken: string;
}

/** A tenant: one enterprise, homed in one region; everything about its customers stays there. */
export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly homeRegion: string;
  /** Hex SHA-256 hashes of the tenant's API keys; the keys themselves are never stored. */
  readonly apiKeySha256: readonly string[];
  readonly whatsapp: {
    readonly wabaId: string;
    /** The Meta app secret that signs this tenant's webhooks. */
    readonly appSecret: string;
    /** The token Meta echoes in the webhook subscription handshake. */
    readonly verifyToken: string;
    readonly phoneNumbers: readonly WhatsAppPhoneNumber[];
  };
}
