import type { ChangePasswordBody } from '@kaguan/contracts'
import { App, Button, Card, Form, Input } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../api/client.js'
import { useErrorReporter } from '../components/hooks.js'
import { PageHeader } from '../components/PageHeader.js'
import { useSession } from '../session.js'

interface PasswordForm {
  currentPassword: string
  newPassword: string
  confirm: string
}

/** Change one's own password; the server ends the other sessions of the account. */
export function AccountPage() {
  const { t } = useTranslation()
  const { me } = useSession()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const [form] = Form.useForm<PasswordForm>()
  const [busy, setBusy] = useState(false)
  return (
    <>
      <PageHeader title={t('account.changePassword')} subtitle={me?.user.username} />
      <Card style={{ maxWidth: 520 }}>
        <Form
          form={form}
          layout="vertical"
          onFinish={async ({ currentPassword, newPassword }) => {
            setBusy(true)
            try {
              const body: ChangePasswordBody = { currentPassword, newPassword }
              await api('POST', '/api/auth/password', body)
              form.resetFields()
              void message.success(t('account.passwordChanged'))
            } catch (e) {
              report(e, form)
            } finally {
              setBusy(false)
            }
          }}
        >
          <Form.Item
            name="currentPassword"
            label={t('account.currentPassword')}
            rules={[{ required: true }]}
          >
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Form.Item
            name="newPassword"
            label={t('account.newPassword')}
            extra={t('account.passwordRule')}
            rules={[{ required: true }, { min: 10, message: t('account.passwordRule') }]}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item
            name="confirm"
            label={t('account.confirmPassword')}
            dependencies={['newPassword']}
            rules={[
              { required: true },
              ({ getFieldValue }) => ({
                validator: (_, value) =>
                  value === getFieldValue('newPassword')
                    ? Promise.resolve()
                    : Promise.reject(new Error(t('account.passwordMismatch'))),
              }),
            ]}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={busy}>
            {t('common.save')}
          </Button>
        </Form>
      </Card>
    </>
  )
}
