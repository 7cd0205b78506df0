export { EMPTY_ROOT, HASH_BYTES, leafHash, merkleTreeHash, nodeHash, splitPoint } from './merkle-hash';
export {
  isProofVerificationError,
  ProofVerificationError,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './proof-verify';
export { InMemoryTreeNodeStore, MerkleLog, MissingTreeNodeError, subtreeKeys, SyncMerkleLog } from './merkle-log';
export type { NodeKey, SyncTreeNodeStore, TreeNode, TreeNodeStore } from './merkle-log';
export {
  checkKeyName,
  ED25519_SIGNATURE_TYPE,
  isNoteVerificationError,
  MAX_NOTE_BYTES,
  MAX_NOTE_SIGNATURES,
  noteKeyId,
  noteSignerFromSeed,
  NoteVerificationError,
  noteVerifier,
  parseNote,
  parseVerifierKey,
  signNote,
  verifyNote,
} from './signed-note';
export type { NoteSignature, NoteSigner, NoteVerifier, ParsedNote } from './signed-note';
export { formatCheckpoint, MalformedCheckpointError, parseCheckpoint, signCheckpoint, verifyCheckpoint } from './checkpoint';
export type { Checkpoint } from './checkpoint';
export {
  LOG_SIGNING_KEY_FILE,
  LOG_SIGNING_KEY_VARIABLE,
  LogSigningKeyConfigError,
  logSigningKeyName,
  loadOrCreateLogSigningKey,
} from './log-signing-key';
export type { LoadedLogSigningKey, LogSigningKeySource } from './log-signing-key';
