import { PlusOutlined } from '@ant-design/icons'
import type { AdminRoleName, AdminUserBody, AdminUserList } from '@kaguan/contracts'
import {
  Alert,
  App,
  Button,
  Card,
  Form,
  Input,
  Modal,
  Popconfirm,
  Select,
  Space,
  Table,
  Tag,
} from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../api/client.js'
import { useErrorReporter, useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { formatTime } from '../lib/format.js'
import { useSession } from '../session.js'

const ROLES: AdminRoleName[] = ['admin', 'operator', 'viewer']

export function AdminUsersPage() {
  const { t } = useTranslation()
  const { can, me, merchants } = useSession()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const users = useLoad(() => api<AdminUserList>('GET', '/api/admin-users'), [])
  const [modal, setModal] = useState<{ kind: 'new' } | { kind: 'password'; user: AdminUserBody }>()
  if (!can('users.manage')) {
    return <Alert type="warning" showIcon message={t('users.adminOnly')} />
  }
  async function patch(user: AdminUserBody, body: { role?: AdminRoleName; disabled?: boolean }) {
    try {
      await api('PATCH', `/api/admin-users/${user.id}`, body)
      void message.success(t('common.saved'))
      users.reload()
    } catch (e) {
      report(e)
    }
  }
  const roleOptions = ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }))
  return (
    <>
      <PageHeader
        title={t('users.title')}
        subtitle={t('users.subtitle')}
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setModal({ kind: 'new' })}>
            {t('users.new')}
          </Button>
        }
      />
      {users.error ? (
        <LoadError error={users.error} onRetry={users.reload} />
      ) : (
        <Card>
          <Table<AdminUserBody>
            rowKey="id"
            loading={users.loading}
            dataSource={users.data?.items ?? []}
            pagination={false}
            columns={[
              { title: t('login.username'), dataIndex: 'username' },
              {
                title: t('users.role'),
                key: 'role',
                render: (_, u) => (
                  <Select
                    style={{ width: 140 }}
                    value={u.role}
                    options={roleOptions}
                    disabled={u.id === me?.user.id}
                    onChange={(role) => patch(u, { role })}
                  />
                ),
              },
              {
                title: t('users.scope'),
                key: 'scope',
                render: (_, u) =>
                  u.scope === 'platform' ? (
                    <Tag color="blue">{t('users.platform')}</Tag>
                  ) : (
                    <Space wrap>
                      {u.merchants.map((m) => (
                        <Tag key={m.merchantId}>
                          {merchants.find((x) => x.id === m.merchantId)?.name ?? m.merchantId} ·{' '}
                          {t(`roles.${m.role}`)}
                        </Tag>
                      ))}
                    </Space>
                  ),
              },
              {
                title: t('users.state'),
                key: 'state',
                render: (_, u) => (
                  <Space>
                    {u.disabled ? (
                      <Tag>{t('users.disabled')}</Tag>
                    ) : (
                      <Tag color="green">{t('users.enabled')}</Tag>
                    )}
                    {u.lockedUntil && (
                      <Tag color="red">
                        {t('users.lockedUntil', { at: formatTime(u.lockedUntil) })}
                      </Tag>
                    )}
                  </Space>
                ),
              },
              {
                title: t('common.createdAt'),
                dataIndex: 'createdAt',
                render: (v: string) => formatTime(v),
              },
              {
                title: t('common.actions'),
                key: 'actions',
                render: (_, u) => (
                  <Space>
                    <Button size="small" onClick={() => setModal({ kind: 'password', user: u })}>
                      {t('users.resetPassword')}
                    </Button>
                    {u.id !== me?.user.id && (
                      <Popconfirm
                        title={u.disabled ? t('users.enableConfirm') : t('users.disableConfirm')}
                        onConfirm={() => patch(u, { disabled: !u.disabled })}
                      >
                        <Button size="small" danger={!u.disabled}>
                          {u.disabled ? t('users.enable') : t('users.disable')}
                        </Button>
                      </Popconfirm>
                    )}
                  </Space>
                ),
              },
            ]}
          />
        </Card>
      )}
      {modal && (
        <UserModal
          modal={modal}
          onClose={(saved) => {
            setModal(undefined)
            if (saved) {
              users.reload()
            }
          }}
        />
      )}
    </>
  )
}

function UserModal({
  modal,
  onClose,
}: {
  modal: { kind: 'new' } | { kind: 'password'; user: AdminUserBody }
  onClose: (saved: boolean) => void
}) {
  const { t } = useTranslation()
  const report = useErrorReporter()
  const { merchants } = useSession()
  const [form] = Form.useForm<{
    username: string
    password: string
    role: AdminRoleName
    merchantIds?: string[]
  }>()
  const [busy, setBusy] = useState(false)
  return (
    <Modal
      open
      title={
        modal.kind === 'new'
          ? t('users.new')
          : t('users.resetPasswordOf', { name: modal.user.username })
      }
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      onOk={() => form.submit()}
      onCancel={() => onClose(false)}
    >
      <Form
        form={form}
        layout="vertical"
        initialValues={{ role: 'operator' }}
        onFinish={async (v) => {
          setBusy(true)
          try {
            if (modal.kind === 'new') {
              const { merchantIds, ...account } = v
              await api('POST', '/api/admin-users', {
                ...account,
                // A merchant-scoped account: the role applies at each merchant chosen.
                ...(merchantIds?.length
                  ? { merchants: merchantIds.map((merchantId) => ({ merchantId, role: v.role })) }
                  : {}),
              })
            } else {
              await api('POST', `/api/admin-users/${modal.user.id}/reset-password`, {
                password: v.password,
              })
            }
            onClose(true)
          } catch (e) {
            report(e, form)
          } finally {
            setBusy(false)
          }
        }}
      >
        {modal.kind === 'new' && (
          <>
            <Form.Item
              name="username"
              label={t('login.username')}
              extra={t('users.usernameRule')}
              rules={[{ required: true }]}
            >
              <Input autoComplete="off" />
            </Form.Item>
            <Form.Item name="role" label={t('users.role')}>
              <Select
                options={ROLES.map((r) => ({
                  value: r,
                  label: `${t(`roles.${r}`)} — ${t(`roles.${r}Help`)}`,
                }))}
              />
            </Form.Item>
            <Form.Item
              name="merchantIds"
              label={t('users.merchants')}
              extra={t('users.merchantsHelp')}
            >
              <Select
                mode="multiple"
                allowClear
                data-testid="user-merchants"
                placeholder={t('users.platform')}
                options={merchants.map((m) => ({ value: m.id, label: m.name }))}
              />
            </Form.Item>
          </>
        )}
        <Form.Item
          name="password"
          label={t('account.newPassword')}
          extra={t('account.passwordRule')}
          rules={[{ required: true, min: 10, message: t('account.passwordRule') }]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
      </Form>
    </Modal>
  )
}
