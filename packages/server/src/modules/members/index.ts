export {
  activateMember,
  eraseMemberData,
  memberOfMerchant,
  getMember,
  pageMembers,
  recordCrmMember,
  reserveMember,
  type MemberFilter,
  type MemberNumbering,
  type MembersDeps,
  type MemberSort,
} from './members.service.js'
export type { MembersTable, MerchantCountersTable } from './members.table.js'
export type { Member, MemberProfile } from './members.view.js'
export { membersKeyStatus, reencryptMembers } from './members.keys.js'
