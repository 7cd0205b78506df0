/** One stored blob: ciphertext and metadata only; the plaintext never reaches the store. */
export interface StoredMedia {
  readonly tenantId: string;
  readonly mediaId: string;
  /** AES-256-GCM ciphertext of the content (see media-cipher.ts). */
  readonly ciphertext: Buffer;
  readonly iv: Buffer;
  readonly authTag: Buffer;
  readonly mimeType: string;
  /** Undefined when the uploader gave none. */
  readonly filename?: string;
  /** Hex SHA-256 of the plaintext, checked after decryption. */
  readonly sha256: string;
  /** Size of the plaintext in bytes. */
  readonly sizeBytes: number;
  readonly createdAt: Date;
}

/** media-store's storage port. Every read is scoped by tenant. */
export interface MediaStore {
  /** Stores a new blob; rejects (and changes nothing) if the tenant already has one with this media id. */
  put(record: StoredMedia): Promise<void>;
  /** The tenant's blob with this id; undefined for an unknown id or another tenant's. */
  get(tenantId: string, mediaId: string): Promise<StoredMedia | undefined>;
  close(): Promise<void>;
}
