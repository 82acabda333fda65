import {
  ApiOutlined,
  AuditOutlined,
  CreditCardOutlined,
  DashboardOutlined,
  DownOutlined,
  GiftOutlined,
  KeyOutlined,
  LogoutOutlined,
  SendOutlined,
  SettingOutlined,
  HourglassOutlined,
  ShopOutlined,
  TeamOutlined,
  UserOutlined,
} from '@ant-design/icons'
import type { AdminPermission } from '@kaguan/contracts'
import { Button, Dropdown, Layout, Menu, Select, Space, Typography } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { useLocation, useNavigate } from 'react-router-dom'
import { useSession } from '../session.js'
import { LanguageSwitch } from './LanguageSwitch.js'

interface Item {
  key: string
  icon: ReactNode
  label: string
  permission: AdminPermission
}

export function AppLayout({ children }: { children: ReactNode }) {
  const { t } = useTranslation()
  const { me, can, role, signOut, merchants, merchant, selectMerchant } = useSession()
  const navigate = useNavigate()
  const location = useLocation()
  const items: Item[] = [
    {
      key: '/dashboard',
      icon: <DashboardOutlined />,
      label: t('menu.dashboard'),
      permission: 'members.read',
    },
    {
      key: '/merchant',
      icon: <SettingOutlined />,
      label: t('menu.merchant'),
      permission: 'settings.read',
    },
    { key: '/shops', icon: <ShopOutlined />, label: t('menu.shops'), permission: 'settings.read' },
    {
      key: '/templates',
      icon: <CreditCardOutlined />,
      label: t('menu.templates'),
      permission: 'templates.read',
    },
    {
      key: '/members',
      icon: <TeamOutlined />,
      label: t('menu.members'),
      permission: 'members.read',
    },
    {
      key: '/stamps',
      icon: <GiftOutlined />,
      label: t('menu.stamps'),
      permission: 'templates.read',
    },
    {
      key: '/exchanges',
      icon: <HourglassOutlined />,
      label: t('menu.exchanges'),
      permission: 'members.read',
    },
    {
      key: '/deliveries',
      icon: <SendOutlined />,
      label: t('menu.deliveries'),
      permission: 'settings.read',
    },
    { key: '/audit', icon: <AuditOutlined />, label: t('menu.audit'), permission: 'audit.read' },
    { key: '/users', icon: <UserOutlined />, label: t('menu.users'), permission: 'users.manage' },
    {
      key: '/onboarding',
      icon: <ApiOutlined />,
      label: t('menu.onboarding'),
      permission: 'keys.write',
    },
  ]
  const selected = items.find((i) => location.pathname.startsWith(i.key))?.key ?? '/dashboard'
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider breakpoint="lg" collapsedWidth={0} width={208} theme="dark">
        <div style={{ color: '#fff', fontSize: 18, fontWeight: 600, padding: '18px 24px' }}>
          {t('app.title')}
        </div>
        <Menu
          theme="dark"
          mode="inline"
          selectedKeys={[selected]}
          items={items
            .filter((i) => can(i.permission))
            .map(({ key, icon, label }) => ({ key, icon, label }))}
          onClick={({ key }) => navigate(key)}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{ background: '#fff', padding: '0 24px', display: 'flex', alignItems: 'center' }}
        >
          <Space style={{ flex: 1 }}>
            <Typography.Text type="secondary">{t('app.merchant')}</Typography.Text>
            {merchants.length > 1 ? (
              <Select
                style={{ minWidth: 200 }}
                data-testid="merchant-switcher"
                value={merchant?.id}
                options={merchants.map((m) => ({ value: m.id, label: m.name }))}
                onChange={(id: string) => {
                  selectMerchant(id)
                  // A detail page (a template, a card) belongs to the merchant left behind: go to
                  // its section's list, which loads the new merchant's data.
                  navigate(selected)
                }}
              />
            ) : (
              <Typography.Text strong>{merchant?.name}</Typography.Text>
            )}
          </Space>
          <Space size="large">
            <LanguageSwitch />
            <Dropdown
              menu={{
                items: [
                  { key: 'password', icon: <KeyOutlined />, label: t('account.changePassword') },
                  { key: 'logout', icon: <LogoutOutlined />, label: t('account.signOut') },
                ],
                onClick: ({ key }) => {
                  if (key === 'password') {
                    navigate('/account')
                  } else {
                    void signOut()
                  }
                },
              }}
            >
              <Button type="text" data-testid="user-menu">
                <UserOutlined /> {me?.user.username} ({t(`roles.${role ?? 'viewer'}`)}){' '}
                <DownOutlined />
              </Button>
            </Dropdown>
          </Space>
        </Layout.Header>
        {/* Keyed by the merchant: a switch remounts the page, which loads that merchant's data. */}
        <Layout.Content key={merchant?.id} style={{ margin: 24 }}>
          {children}
        </Layout.Content>
      </Layout>
    </Layout>
  )
}
