import { AppError, ErrorKind } from '../../shared/errors.js'

/** Every code the templates module answers with, beyond field problems (docs/errcodes.md). */
export type TemplateErrorCode =
  | 'TEMPLATE_NOT_FOUND'
  | 'TEMPLATE_NOT_PUBLISHED'
  | 'TEMPLATE_EDIT_CONFLICT'
  | 'TEMPLATE_PUBLISH_RUNNING'
  | 'CLAIM_LINK_NOT_FOUND'
  | 'COMPONENT_NOT_FOUND'

/** The templates error catalogue: every throw site of one failure gets the same code and kind. */
export const TemplateErrors = {
  notFound: (id: string) =>
    new AppError(ErrorKind.NotFound, 'TEMPLATE_NOT_FOUND', `template ${id} does not exist`),
  notPublished: (id: string) =>
    new AppError(
      ErrorKind.Conflict,
      'TEMPLATE_NOT_PUBLISHED',
      `template ${id} is not published yet: publish it first`,
    ),
  editConflict: () =>
    new AppError(
      ErrorKind.Conflict,
      'TEMPLATE_EDIT_CONFLICT',
      'the template was changed by someone else since you opened it; reload and edit again',
    ),
  publishRunning: (id: string) =>
    new AppError(
      ErrorKind.Conflict,
      'TEMPLATE_PUBLISH_RUNNING',
      `template ${id} is being published right now; look at it again in a moment`,
      {},
      { retryable: true },
    ),
  claimLinkNotFound: (id: string) =>
    new AppError(ErrorKind.NotFound, 'CLAIM_LINK_NOT_FOUND', `claim link ${id} does not exist`),
  componentNotFound: (id: string) =>
    new AppError(ErrorKind.NotFound, 'COMPONENT_NOT_FOUND', `component ${id} does not exist`),
} satisfies Record<string, (...args: never[]) => AppError>
