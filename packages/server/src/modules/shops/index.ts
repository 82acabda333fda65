export {
  createShop,
  deleteShop,
  findShops,
  listShops,
  updateShop,
  type Shop,
  type ShopInput,
} from './shops.service.js'
export type { ShopsTable } from './shops.table.js'
export { ShopErrors, type ShopErrorCode } from './shops.errors.js'
