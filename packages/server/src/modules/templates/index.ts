export {
  claimLinkQr,
  createClaimLink,
  getClaimLink,
  latestClaimUrl,
  listClaimLinks,
  type ClaimLink,
} from './claim-links.service.js'
export {
  componentPublicView,
  createComponent,
  getComponent,
  listComponents,
  type CardComponent,
} from './components.service.js'
export { listImages, uploadImage, type Image } from './images.service.js'
export { publishTemplate, type PublishOutcome } from './publish.service.js'
export { omittedShops, previewSpec, toWalletPreview } from './template-preview.js'
export { toRgb } from './template-rules.js'
export {
  createTemplate,
  draftPreview,
  getTemplate,
  listPublishedSpecs,
  listTemplates,
  templateByAlipayId,
  templateOwner,
  templatePreview,
  updateTemplateDraft,
  type CardTemplate,
  type TemplatesDeps,
  type TemplateStatus,
} from './templates.service.js'
export type {
  CardComponentsTable,
  CardTemplatesTable,
  ClaimLinksTable,
  ImagesTable,
} from './templates.table.js'
export { TemplateErrors, type TemplateErrorCode } from './templates.errors.js'
