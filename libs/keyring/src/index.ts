export {
  createKeyring,
  DATA_KEY_CACHE_ENTRIES,
  DATA_KEY_CACHE_MS,
  DataKeyUnavailableError,
  isDataKeyUnavailableError,
  scopeName,
  UnknownKeyEncryptionKeyError,
} from './keyring';
export type { DataKey, Keyring, KeyScope, RotationResult } from './keyring';
export {
  decodeKey,
  KEK_VARIABLES,
  KEY_BYTES,
  KeyEncryptionKeyConfigError,
  loadKeyEncryptionKeys,
  parseKeyEncryptionKeyFile,
  toKeyEncryptionKey,
} from './key-encryption-keys';
export type { KeyEncryptionKey, KeyEncryptionKeys } from './key-encryption-keys';
export { JetStreamWrappedKeyStore, keyringBucketName } from './jetstream-wrapped-key-store';
export type { WrappedKeyEntry, WrappedKeyStore } from './wrapped-key-store';
export { isSealedText, MalformedSealedTextError, openSealedText, SEALED_TEXT_PREFIX, sealText } from './sealed-text';
export {
  customerKeyScope,
  isSealedPayload,
  MalformedSealedPayloadError,
  openPayload,
  SEALED_PAYLOAD_MAGIC,
  SEALED_PAYLOAD_OVERHEAD_BYTES,
  sealedPayloadKeyId,
  sealPayload,
  sealWithKey,
  tenantOfKeyId,
} from './sealed-payload';
export { loadOrCreateKeyFile } from './local-key-file';
export { kekSourceFromEnv, openRegionKeyring, resolveKekSource } from './kek-source';
export type { KekSource } from './kek-source';
export { createCustomerSealer } from './customer-sealer';
export type { CustomerSealer } from './customer-sealer';
export { createInMemoryKeyring, createMemoryWrappedKeyStore } from './memory-wrapped-key-store';
