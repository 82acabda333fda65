import { App as AntApp, ConfigProvider, Spin } from 'antd'
import enUS from 'antd/es/locale/en_US'
import zhCNLocale from 'antd/es/locale/zh_CN'
import dayjs from 'dayjs'
import 'dayjs/locale/zh-cn'
import { useEffect } from 'react'
import { useTranslation } from 'react-i18next'
import { HashRouter, Navigate, Route, Routes } from 'react-router-dom'
import { AppLayout } from './components/AppLayout.js'
import { AccountPage } from './pages/AccountPage.js'
import { AdminUsersPage } from './pages/AdminUsersPage.js'
import { AuditPage } from './pages/AuditPage.js'
import { DashboardPage } from './pages/DashboardPage.js'
import { DeliveriesPage } from './pages/DeliveriesPage.js'
import { LoginPage } from './pages/LoginPage.js'
import { MemberDetailPage } from './pages/MemberDetailPage.js'
import { MembersPage } from './pages/MembersPage.js'
import { MerchantPage } from './pages/MerchantPage.js'
import { OnboardingPage } from './pages/OnboardingPage.js'
import { ShopsPage } from './pages/ShopsPage.js'
import { StampAccountPage } from './pages/StampAccountPage.js'
import { StampActivitiesPage } from './pages/StampActivitiesPage.js'
import { StampActivityDetailPage } from './pages/StampActivityDetailPage.js'
import { StampActivityEditorPage } from './pages/StampActivityEditorPage.js'
import { StampHoldsPage } from './pages/StampHoldsPage.js'
import { TemplateDetailPage } from './pages/TemplateDetailPage.js'
import { TemplateEditorPage } from './pages/TemplateEditorPage.js'
import { TemplatesPage } from './pages/TemplatesPage.js'
import { SessionProvider, useSession } from './session.js'

function Routed() {
  const { me, merchant } = useSession()
  if (me === undefined) {
    return <Spin fullscreen />
  }
  if (me === null) {
    return <LoginPage />
  }
  return (
    <AppLayout>
      {merchant ? (
        <Routes>
          <Route path="/" element={<Navigate to="/dashboard" replace />} />
          <Route path="/dashboard" element={<DashboardPage />} />
          <Route path="/merchant" element={<MerchantPage />} />
          <Route path="/shops" element={<ShopsPage />} />
          <Route path="/templates" element={<TemplatesPage />} />
          <Route path="/templates/new" element={<TemplateEditorPage />} />
          <Route path="/templates/:templateId/edit" element={<TemplateEditorPage />} />
          <Route path="/templates/:templateId" element={<TemplateDetailPage />} />
          <Route path="/members" element={<MembersPage />} />
          <Route path="/members/cards/:cardId" element={<MemberDetailPage />} />
          <Route path="/stamps" element={<StampActivitiesPage />} />
          <Route path="/stamps/new/:type" element={<StampActivityEditorPage />} />
          <Route path="/stamps/accounts/:accountId" element={<StampAccountPage />} />
          <Route path="/stamps/:activityId/edit" element={<StampActivityEditorPage />} />
          <Route path="/stamps/:activityId" element={<StampActivityDetailPage />} />
          <Route path="/exchanges" element={<StampHoldsPage />} />
          <Route path="/deliveries" element={<DeliveriesPage />} />
          <Route path="/audit" element={<AuditPage />} />
          <Route path="/users" element={<AdminUsersPage />} />
          <Route path="/onboarding" element={<OnboardingPage />} />
          <Route path="/account" element={<AccountPage />} />
          <Route path="*" element={<Navigate to="/dashboard" replace />} />
        </Routes>
      ) : (
        <Spin />
      )}
    </AppLayout>
  )
}

export function App() {
  const { i18n } = useTranslation()
  const english = i18n.language === 'en'
  useEffect(() => {
    dayjs.locale(english ? 'en' : 'zh-cn')
    document.documentElement.lang = english ? 'en' : 'zh-CN'
  }, [english])
  return (
    <ConfigProvider
      locale={english ? enUS : zhCNLocale}
      theme={{ token: { colorPrimary: '#1677ff' } }}
    >
      <AntApp>
        <SessionProvider>
          <HashRouter>
            <Routed />
          </HashRouter>
        </SessionProvider>
      </AntApp>
    </ConfigProvider>
  )
}
