export { KeysErrors, type KeysErrorCode } from './keys.errors.js'
export type { MasterKeyRotationTable } from './keys.table.js'
export {
  masterKeyStatus,
  ROTATION_PARTS,
  rotateMasterKey,
  type RotateMasterOptions,
  type RotateMasterResult,
  type RotationPart,
  type RotationProgress,
} from './master-rotation.service.js'
