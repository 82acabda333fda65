import { randomBytes } from 'node:crypto'
import { createFieldCipher, type FieldCipher } from '../../shared/field-crypto.js'

/** The encryption context of a wrapped member data key. */
const DATA_KEY_CONTEXT = 'members.data_key'

/**
 * A new member data key, wrapped by the master key as it is stored. Each member's personal fields
 * are sealed under their own key, so destroying it (an erasure on request) makes every copy of
 * those fields unreadable: in backups, replicas and exports too (crypto-shredding).
 */
export function newWrappedDataKey(master: FieldCipher): string {
  return master.encrypt(randomBytes(32).toString('base64'), DATA_KEY_CONTEXT)
}

/**
 * The cipher of one member's personal fields: under their own data key when they have one, under
 * the master key for members stored before data keys existed (sealed anew at their next change).
 */
export function memberCipher(master: FieldCipher, wrappedKey: string | null): FieldCipher {
  if (wrappedKey === null) {
    return master
  }
  return createFieldCipher(Buffer.from(master.decrypt(wrappedKey, DATA_KEY_CONTEXT), 'base64'))
}

/**
 * A member data key wrapped under the current master key (master-key rotation: the master cipher
 * still reads the previous key meanwhile). The fields sealed under the data key stay as they are.
 */
export function rewrapDataKey(master: FieldCipher, wrappedKey: string): string {
  return master.encrypt(master.decrypt(wrappedKey, DATA_KEY_CONTEXT), DATA_KEY_CONTEXT)
}
