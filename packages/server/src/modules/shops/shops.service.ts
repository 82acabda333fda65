import { ShopErrors } from './shops.errors.js'
import type { AppDeps } from '../../deps.js'
import { recordAudit } from '../audit/index.js'
import * as repo from './shops.repository.js'
import type { ShopRow } from './shops.table.js'

/** What staff enter for a shop (门店). */
export interface ShopInput {
  name: string
  address: string
  latitude: number
  longitude: number
  alipayShopId?: string
  phone?: string
}

/** A shop: where a card applies, shown sorted by distance in the card detail. */
export interface Shop extends ShopInput {
  id: string
  merchantId: string
}

function toShop(row: ShopRow): Shop {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    name: row.name,
    address: row.address,
    latitude: row.latitude,
    longitude: row.longitude,
    ...(row.alipay_shop_id ? { alipayShopId: row.alipay_shop_id } : {}),
    ...(row.phone ? { phone: row.phone } : {}),
  }
}

type Deps = Pick<AppDeps, 'clock' | 'ids'>
type Actor = { actor: string; requestId?: string }

export async function listShops(deps: Pick<AppDeps, 'db'>, merchantId: string): Promise<Shop[]> {
  const { db } = deps
  return (await repo.listByMerchant(db, merchantId)).map(toShop)
}

/** The merchant's shops with these ids; ids that are not the merchant's are simply absent. */
export async function findShops(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  ids: readonly string[],
): Promise<Shop[]> {
  const { db } = deps
  return (await repo.findByIds(db, merchantId, ids)).map(toShop)
}

export async function createShop(
  deps: Deps & Pick<AppDeps, 'db'>,
  merchantId: string,
  input: ShopInput,
  actor: Actor,
): Promise<Shop> {
  const { db } = deps
  const now = deps.clock.nowIso()
  const row: ShopRow = {
    id: deps.ids.next('shop'),
    merchant_id: merchantId,
    name: input.name.trim(),
    address: input.address.trim(),
    latitude: input.latitude,
    longitude: input.longitude,
    alipay_shop_id: input.alipayShopId?.trim() || null,
    phone: input.phone?.trim() || null,
    created_at: now,
    updated_at: now,
  }
  await repo.insert(db, row)
  await recordAudit(deps, {
    merchantId,
    ...actor,
    action: 'shop.create',
    target: { type: 'shop', id: row.id },
    after: toShop(row),
  })
  return toShop(row)
}

export async function updateShop(
  deps: Deps & Pick<AppDeps, 'db'>,
  merchantId: string,
  id: string,
  input: ShopInput,
  actor: Actor,
): Promise<Shop> {
  const { db } = deps
  const [before] = await findShops(deps, merchantId, [id])
  if (!before) {
    throw ShopErrors.notFound(id)
  }
  await repo.update(db, merchantId, id, {
    name: input.name.trim(),
    address: input.address.trim(),
    latitude: input.latitude,
    longitude: input.longitude,
    alipay_shop_id: input.alipayShopId?.trim() || null,
    phone: input.phone?.trim() || null,
    updated_at: deps.clock.nowIso(),
  })
  const [after] = await findShops(deps, merchantId, [id])
  await recordAudit(deps, {
    merchantId,
    ...actor,
    action: 'shop.update',
    target: { type: 'shop', id },
    before,
    after,
  })
  return after!
}

export async function deleteShop(
  deps: Deps & Pick<AppDeps, 'db'>,
  merchantId: string,
  id: string,
  actor: Actor,
): Promise<void> {
  const { db } = deps
  const [before] = await findShops(deps, merchantId, [id])
  if (!before || !(await repo.remove(db, merchantId, id))) {
    throw ShopErrors.notFound(id)
  }
  await recordAudit(deps, {
    merchantId,
    ...actor,
    action: 'shop.delete',
    target: { type: 'shop', id },
    before,
  })
}
