import type { AdminPermission, LoginResponse, MeResponse, MerchantView } from '@kaguan/contracts'
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  type ReactNode,
} from 'react'
import { api, get, onUnauthorized, setCsrfToken } from './api/client.js'
import { listAll } from './api/paged.js'

interface SessionValue {
  /** undefined while the first `GET /api/auth/me` is on its way; null when signed out. */
  me: MeResponse | null | undefined
  signIn(username: string, password: string): Promise<void>
  signOut(): Promise<void>
  /** Whether the role at the current merchant grants `permission` (ISV-wide ones: platform admins only). */
  can(permission: AdminPermission): boolean
  /** A platform (ISV-wide) admin: sees every merchant, manages accounts and merchants. */
  isPlatform: boolean
  /** The signed-in account's role at the current merchant. */
  role: MeResponse['user']['role'] | undefined
  /** The merchants the account sees; the header shows a switcher when there are several. */
  merchants: MerchantView[]
  merchant: MerchantView | undefined
  selectMerchant(id: string): void
  /** Reloads the merchants after a settings change. */
  reloadMerchants(): Promise<void>
}

const SessionContext = createContext<SessionValue | undefined>(undefined)

export function useSession(): SessionValue {
  const value = useContext(SessionContext)
  if (!value) {
    throw new Error('useSession outside SessionProvider')
  }
  return value
}

/** The current merchant; pages under the layout only render once it is known. */
export function useMerchant(): MerchantView {
  const { merchant } = useSession()
  if (!merchant) {
    throw new Error('useMerchant before the merchants loaded')
  }
  return merchant
}

/** Where the current merchant is kept between visits (per browser). */
const MERCHANT_KEY = 'kaguan.merchant'

function storedMerchant(): string | undefined {
  try {
    return localStorage.getItem(MERCHANT_KEY) ?? undefined
  } catch {
    return undefined
  }
}

/** Permissions only an ISV-wide account has, whatever its role at a merchant. */
const PLATFORM_PERMISSIONS: ReadonlySet<AdminPermission> = new Set(['users.manage'])

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<MeResponse | null | undefined>(undefined)
  const [merchants, setMerchants] = useState<MerchantView[]>([])
  const [merchantId, setMerchantId] = useState<string | undefined>(storedMerchant)

  const selectMerchant = useCallback((id: string) => {
    setMerchantId(id)
    try {
      localStorage.setItem(MERCHANT_KEY, id)
    } catch {
      // private mode: the choice lasts for this page only
    }
  }, [])

  const loadMe = useCallback(async () => {
    try {
      const answer = await api<MeResponse>('GET', '/api/auth/me')
      setCsrfToken(answer.csrfToken)
      setMe(answer)
    } catch {
      setCsrfToken(undefined)
      setMe(null)
    }
  }, [])

  const reloadMerchants = useCallback(async () => {
    const list = await listAll<MerchantView>(get, '/api/merchants')
    setMerchants(list)
    setMerchantId((current) =>
      list.some((m) => m.id === current) ? current : (list.find((m) => m.isDefault) ?? list[0])?.id,
    )
  }, [])

  useEffect(() => {
    void loadMe()
    return onUnauthorized(() => setMe(null))
  }, [loadMe])

  useEffect(() => {
    if (me) {
      reloadMerchants().catch(() => setMerchants([]))
    }
  }, [me, reloadMerchants])

  const value = useMemo<SessionValue>(() => {
    const isPlatform = me?.scope !== 'merchant'
    // A merchant-scoped account acts with its role at the merchant shown.
    const access = isPlatform ? undefined : me?.merchants.find((m) => m.merchantId === merchantId)
    const permissions = isPlatform ? (me?.permissions ?? []) : (access?.permissions ?? [])
    return {
      me,
      async signIn(username, password) {
        const answer = await api<LoginResponse>('POST', '/api/auth/login', { username, password })
        setCsrfToken(answer.csrfToken)
        await loadMe()
      },
      async signOut() {
        await api('POST', '/api/auth/logout').catch(() => undefined)
        setCsrfToken(undefined)
        setMerchants([])
        setMe(null)
      },
      can: (permission) =>
        permissions.includes(permission) && (isPlatform || !PLATFORM_PERMISSIONS.has(permission)),
      isPlatform,
      role: isPlatform ? me?.user.role : access?.role,
      merchants,
      merchant: merchants.find((m) => m.id === merchantId),
      selectMerchant,
      reloadMerchants,
    }
  }, [me, merchants, merchantId, loadMe, reloadMerchants, selectMerchant])
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}
