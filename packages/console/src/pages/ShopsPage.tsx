import { PlusOutlined, WarningOutlined } from '@ant-design/icons'
import type { ShopBody, ShopView } from '@kaguan/contracts'
import {
  App,
  Button,
  Card,
  Form,
  Input,
  InputNumber,
  Modal,
  Popconfirm,
  Space,
  Table,
  Tag,
  Tooltip,
} from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api, get } from '../api/client.js'
import { listAll } from '../api/paged.js'
import { useErrorReporter, useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { useMerchant, useSession } from '../session.js'

export function ShopsPage() {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const { can } = useSession()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const shops = useLoad(
    () => listAll<ShopView>(get, `/api/merchants/${merchant.id}/shops`),
    [merchant.id],
  )
  const [editing, setEditing] = useState<ShopView | 'new'>()
  const writable = can('settings.write')
  return (
    <>
      <PageHeader
        title={t('shops.title')}
        subtitle={t('shops.subtitle')}
        extra={
          writable && (
            <Button
              type="primary"
              icon={<PlusOutlined />}
              onClick={() => setEditing('new')}
              data-testid="new-shop"
            >
              {t('shops.new')}
            </Button>
          )
        }
      />
      {shops.error ? (
        <LoadError error={shops.error} onRetry={shops.reload} />
      ) : (
        <Card>
          <Table<ShopView>
            rowKey="id"
            loading={shops.loading}
            dataSource={shops.data ?? []}
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            locale={{ emptyText: t('shops.empty') }}
            columns={[
              { title: t('shops.name'), dataIndex: 'name' },
              { title: t('shops.address'), dataIndex: 'address' },
              {
                title: t('shops.alipayShopId'),
                dataIndex: 'alipayShopId',
                render: (id: string | undefined) =>
                  id ? (
                    id
                  ) : (
                    <Tooltip title={t('shops.noAlipayShopIdHelp')}>
                      <Tag color="warning" icon={<WarningOutlined />}>
                        {t('shops.noAlipayShopId')}
                      </Tag>
                    </Tooltip>
                  ),
              },
              { title: t('shops.phone'), dataIndex: 'phone' },
              // No empty actions column for a role that may not change shops.
              ...(!writable
                ? []
                : [
                    {
                      title: t('common.actions'),
                      key: 'actions',
                      render: (_: unknown, shop: ShopView) =>
                        writable && (
                          <Space>
                            <Button size="small" onClick={() => setEditing(shop)}>
                              {t('common.edit')}
                            </Button>
                            <Popconfirm
                              title={t('shops.deleteConfirm', { name: shop.name })}
                              onConfirm={async () => {
                                try {
                                  await api(
                                    'DELETE',
                                    `/api/merchants/${merchant.id}/shops/${shop.id}`,
                                  )
                                  void message.success(t('common.deleted'))
                                  shops.reload()
                                } catch (e) {
                                  report(e)
                                }
                              }}
                            >
                              <Button size="small" danger>
                                {t('common.delete')}
                              </Button>
                            </Popconfirm>
                          </Space>
                        ),
                    },
                  ]),
            ]}
          />
        </Card>
      )}
      {editing && (
        <ShopModal
          merchantId={merchant.id}
          shop={editing === 'new' ? undefined : editing}
          onClose={(saved) => {
            setEditing(undefined)
            if (saved) {
              shops.reload()
            }
          }}
        />
      )}
    </>
  )
}

function ShopModal({
  merchantId,
  shop,
  onClose,
}: {
  merchantId: string
  shop: ShopView | undefined
  onClose: (saved: boolean) => void
}) {
  const { t } = useTranslation()
  const report = useErrorReporter()
  const [form] = Form.useForm<ShopBody>()
  const [busy, setBusy] = useState(false)
  return (
    <Modal
      open
      title={shop ? t('shops.edit') : t('shops.new')}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      onCancel={() => onClose(false)}
      onOk={() => form.submit()}
      destroyOnClose
    >
      <Form
        form={form}
        layout="vertical"
        initialValues={shop ?? { address: '', latitude: 30.27, longitude: 120.15 }}
        onFinish={async (v) => {
          setBusy(true)
          const body: ShopBody = {
            name: v.name,
            address: v.address ?? '',
            latitude: v.latitude,
            longitude: v.longitude,
            ...(v.alipayShopId ? { alipayShopId: v.alipayShopId } : {}),
            ...(v.phone ? { phone: v.phone } : {}),
          }
          try {
            await (shop
              ? api('PUT', `/api/merchants/${merchantId}/shops/${shop.id}`, body)
              : api('POST', `/api/merchants/${merchantId}/shops`, body))
            onClose(true)
          } catch (e) {
            report(e, form)
          } finally {
            setBusy(false)
          }
        }}
      >
        <Form.Item name="name" label={t('shops.name')} rules={[{ required: true, max: 64 }]}>
          <Input />
        </Form.Item>
        <Form.Item name="address" label={t('shops.address')}>
          <Input />
        </Form.Item>
        <Space>
          <Form.Item name="latitude" label={t('shops.latitude')} rules={[{ required: true }]}>
            <InputNumber min={-90} max={90} step={0.0001} />
          </Form.Item>
          <Form.Item name="longitude" label={t('shops.longitude')} rules={[{ required: true }]}>
            <InputNumber min={-180} max={180} step={0.0001} />
          </Form.Item>
        </Space>
        <Form.Item
          name="alipayShopId"
          label={t('shops.alipayShopId')}
          extra={t('shops.alipayShopIdHelp')}
        >
          <Input />
        </Form.Item>
        <Form.Item name="phone" label={t('shops.phone')}>
          <Input />
        </Form.Item>
      </Form>
    </Modal>
  )
}
