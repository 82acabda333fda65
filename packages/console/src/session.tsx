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
  can(permission: AdminPermission): boolean
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

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<MeResponse | null | undefined>(undefined)
  const [merchants, setMerchants] = useState<MerchantView[]>([])
  const [merchantId, setMerchantId] = useState<string>()

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

  const value = useMemo<SessionValue>(
    () => ({
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
      can: (permission) => me?.permissions.includes(permission) ?? false,
      merchants,
      merchant: merchants.find((m) => m.id === merchantId),
      selectMerchant: setMerchantId,
      reloadMerchants,
    }),
    [me, merchants, merchantId, loadMe, reloadMerchants],
  )
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}
