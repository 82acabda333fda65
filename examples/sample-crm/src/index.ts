/**
 * @kaguan/sample-crm: a small real merchant CRM on `@kaguan/crm-sdk`, used by `kaguan demo` to
 * show CRM mode. It issues its own member card numbers (`CRM00000001`…), answers kaguan's three
 * CRM endpoints, and pushes point/level changes to kaguan core with signed `/card/update` calls.
 */
export {
  DEFAULT_LEVELS,
  startSampleCrm,
  type SampleCrm,
  type SampleCrmOptions,
  type SampleLevel,
} from './sample-crm.js'
export {
  CardStatus,
  openMemberStore,
  type Member,
  type MemberStore,
  type NewMember,
} from './member-store.js'
