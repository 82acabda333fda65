import { LockOutlined, UserOutlined } from '@ant-design/icons'
import { Button, Card, Form, Input, Space, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useErrorReporter } from '../components/hooks.js'
import { LanguageSwitch } from '../components/LanguageSwitch.js'
import { useSession } from '../session.js'

export function LoginPage() {
  const { t } = useTranslation()
  const { signIn } = useSession()
  const report = useErrorReporter()
  const [form] = Form.useForm<{ username: string; password: string }>()
  const [busy, setBusy] = useState(false)
  return (
    <div
      style={{
        minHeight: '100vh',
        display: 'flex',
        alignItems: 'center',
        justifyContent: 'center',
        background: '#f0f2f5',
      }}
    >
      <Card style={{ width: 380 }}>
        <Space direction="vertical" style={{ width: '100%' }} size="large">
          <Space style={{ width: '100%', justifyContent: 'space-between' }}>
            <Typography.Title level={3} style={{ margin: 0 }}>
              {t('app.title')}
            </Typography.Title>
            <LanguageSwitch />
          </Space>
          <Typography.Text type="secondary">{t('login.subtitle')}</Typography.Text>
          <Form
            form={form}
            layout="vertical"
            onFinish={async (values) => {
              setBusy(true)
              try {
                await signIn(values.username, values.password)
              } catch (e) {
                report(e, form)
              } finally {
                setBusy(false)
              }
            }}
          >
            <Form.Item
              name="username"
              label={t('login.username')}
              rules={[{ required: true, message: t('login.usernameRequired') }]}
            >
              <Input prefix={<UserOutlined />} autoComplete="username" autoFocus />
            </Form.Item>
            <Form.Item
              name="password"
              label={t('login.password')}
              rules={[{ required: true, message: t('login.passwordRequired') }]}
            >
              <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy}>
              {t('login.submit')}
            </Button>
          </Form>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('login.hint')}
          </Typography.Text>
        </Space>
      </Card>
    </div>
  )
}
