import { AppError, ErrorKind } from '../../shared/errors.js'

export type ShopErrorCode = 'SHOP_NOT_FOUND'

/** The shops error catalogue (docs/errcodes.md). */
export const ShopErrors = {
  notFound: (id: string) =>
    new AppError(ErrorKind.NotFound, 'SHOP_NOT_FOUND', `shop ${id} does not exist`),
}
