import { AppError, ErrorKind } from '../../shared/errors.js'

/** Codes of the keys module (docs/errcodes.md). */
export type KeysErrorCode = 'MASTER_ROTATION_INCOMPLETE'

export const KeysErrors = {
  incomplete: (stale: number, keyId: string) =>
    new AppError(
      ErrorKind.Conflict,
      'MASTER_ROTATION_INCOMPLETE',
      `${stale} row(s) still hold values not under master key ${keyId} after every pass: a kaguan process still runs with the old key as its masterKey. Give every process the new masterKey, then run rotate-master again`,
      { stale },
    ),
}
