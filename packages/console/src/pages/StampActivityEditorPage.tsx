import type { ImageView, ShopView, StampActivityView } from '@kaguan/contracts'
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Form,
  Input,
  InputNumber,
  Radio,
  Row,
  Select,
  Space,
  Spin,
  Switch,
} from 'antd'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useNavigate, useParams } from 'react-router-dom'
import { api, ApiError, get } from '../api/client.js'
import { listAll } from '../api/paged.js'
import { useErrorReporter, useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { ImagePicker } from '../components/template/ImagePicker.js'
import {
  formFromSpec,
  newStampForm,
  specFromForm,
  stampFormProblems,
  type StampActivityType,
  type StampForm,
} from '../lib/stamps.js'
import { useMerchant } from '../session.js'

interface EditorData {
  activity: StampActivityView | undefined
  activities: StampActivityView[]
  images: ImageView[]
  shops: ShopView[]
}

/** `/stamps/new/:type` (a new draft) and `/stamps/:activityId/edit` (a saved draft). */
export function StampActivityEditorPage() {
  const { activityId, type } = useParams()
  const merchant = useMerchant()
  const loaded = useLoad<EditorData>(async () => {
    const base = `/api/merchants/${merchant.id}`
    const [activity, activities, images, shops] = await Promise.all([
      activityId
        ? api<StampActivityView>('GET', `${base}/stamp-activities/${activityId}`)
        : Promise.resolve(undefined),
      listAll<StampActivityView>(get, `${base}/stamp-activities?type=POINT_SEND`),
      listAll<ImageView>(get, `${base}/images`),
      listAll<ShopView>(get, `${base}/shops`),
    ])
    return { activity, activities, images, shops }
  }, [activityId, merchant.id])
  if (loaded.error) {
    return <LoadError error={loaded.error} onRetry={loaded.reload} />
  }
  if (!loaded.data) {
    return <Spin />
  }
  const kind: StampActivityType =
    loaded.data.activity?.type ?? (type === 'DIRECT_SEND' ? 'DIRECT_SEND' : 'POINT_SEND')
  return <Editor key={activityId ?? kind} type={kind} data={loaded.data} />
}

function Editor({ type, data }: { type: StampActivityType; data: EditorData }) {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const navigate = useNavigate()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const [form] = Form.useForm<StampForm>()
  const [images, setImages] = useState(data.images)
  const [busy, setBusy] = useState(false)
  const initial = useMemo(
    () => (data.activity ? formFromSpec(type, data.activity.spec) : newStampForm(type)),
    [data.activity, type],
  )
  const editable = !data.activity || data.activity.status === 'draft'
  const shopOptions = data.shops.map((s) => ({
    value: s.id,
    label: s.alipayShopId ? s.name : `${s.name} ${t('stamps.noAlipayShopId')}`,
  }))
  const chosenShops = Form.useWatch('shopIds', form) as string[] | undefined
  const voucherType = Form.useWatch(['voucher', 'type'], form) as string | undefined
  const validityType = Form.useWatch(['voucher', 'validity', 'type'], form) as string | undefined

  async function save(values: StampForm) {
    setBusy(true)
    const body = { type, spec: specFromForm(type, values) }
    const base = `/api/merchants/${merchant.id}/stamp-activities`
    try {
      const saved = data.activity
        ? await api<StampActivityView>('PUT', `${base}/${data.activity.id}`, body)
        : await api<StampActivityView>('POST', base, body)
      void message.success(t('stamps.saved'))
      navigate(`/stamps/${saved.id}`)
    } catch (e) {
      report(
        e instanceof ApiError
          ? new ApiError(e.status, {
              errcode: e.errcode,
              message: e.message,
              details: { ...e.details, fields: stampFormProblems(e.fields) },
            })
          : e,
        form,
      )
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <PageHeader
        title={
          data.activity
            ? t('stamps.editTitle', { name: data.activity.name })
            : type === 'POINT_SEND'
              ? t('stamps.newStamp')
              : t('stamps.newExchange')
        }
        subtitle={t(`stamps.typeHelp.${type}`)}
      />
      {!editable && (
        <Alert
          style={{ marginBottom: 16 }}
          type="warning"
          showIcon
          message={t('stamps.draftOnly')}
        />
      )}
      <Form<StampForm>
        form={form}
        layout="vertical"
        initialValues={initial}
        onFinish={save}
        disabled={!editable}
        scrollToFirstError
      >
        <Row gutter={16}>
          <Col xs={24} xl={12}>
            <Card size="small" title={t('stamps.sections.basic')} style={{ marginBottom: 16 }}>
              <Form.Item name="name" label={t('stamps.name')} rules={[{ required: true, max: 32 }]}>
                <Input data-testid="stamp-name" />
              </Form.Item>
              <Form.Item name="description" label={t('stamps.description')} rules={[{ max: 64 }]}>
                <Input />
              </Form.Item>
              <Space wrap>
                <Form.Item
                  name="startTime"
                  label={t('stamps.startTime')}
                  rules={[{ required: true }]}
                >
                  <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" />
                </Form.Item>
                <Form.Item
                  name="endTime"
                  label={t('stamps.endTime')}
                  dependencies={['startTime']}
                  rules={[
                    { required: true },
                    ({ getFieldValue }) => ({
                      validator: (_, v) => {
                        const start = getFieldValue('startTime')
                        return v && start && !v.isAfter(start)
                          ? Promise.reject(new Error(t('stamps.endBeforeStart')))
                          : Promise.resolve()
                      },
                    }),
                  ]}
                >
                  <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" />
                </Form.Item>
              </Space>
              <Form.Item
                name="shopIds"
                label={t('stamps.shops')}
                extra={t('stamps.shopsHelp')}
                rules={[{ required: true, type: 'array', min: 1 }]}
              >
                <Select mode="multiple" options={shopOptions} data-testid="stamp-shops" />
              </Form.Item>
            </Card>
            {type === 'POINT_SEND' ? (
              <Card size="small" title={t('stamps.sections.rule')} style={{ marginBottom: 16 }}>
                <Form.Item
                  name={['rule', 'minAmount']}
                  label={t('stamps.rule.minAmount')}
                  extra={t('stamps.rule.minAmountHelp')}
                >
                  <InputNumber min={0} precision={2} data-testid="stamp-min-amount" />
                </Form.Item>
                <Form.Item
                  name={['rule', 'shopIds']}
                  label={t('stamps.rule.shopIds')}
                  extra={t('stamps.rule.shopIdsHelp')}
                >
                  <Select
                    mode="multiple"
                    allowClear
                    options={shopOptions.filter((o) => chosenShops?.includes(o.value))}
                  />
                </Form.Item>
                <Form.Item
                  label={t('stamps.rule.perAmountStep')}
                  extra={t('stamps.rule.perAmountStepHelp')}
                >
                  <Space>
                    <Form.Item name={['rule', 'perAmountStep', 'amount']} noStyle>
                      <InputNumber
                        min={0.01}
                        precision={2}
                        prefix={t('stamps.rule.stepAmount')}
                        style={{ width: 180 }}
                      />
                    </Form.Item>
                    <Form.Item name={['rule', 'perAmountStep', 'stamps']} noStyle>
                      <InputNumber
                        min={1}
                        max={100}
                        precision={0}
                        prefix={t('stamps.rule.stepStamps')}
                        style={{ width: 140 }}
                      />
                    </Form.Item>
                  </Space>
                </Form.Item>
                <Form.Item name={['rule', 'maxPerDay']} label={t('stamps.rule.maxPerDay')}>
                  <InputNumber min={1} max={1000} precision={0} data-testid="stamp-max-per-day" />
                </Form.Item>
              </Card>
            ) : (
              <Card size="small" title={t('stamps.sections.exchange')} style={{ marginBottom: 16 }}>
                <Form.Item
                  name="stampActivityId"
                  label={t('stamps.stampActivity')}
                  extra={t('stamps.stampActivityHelp')}
                  rules={[{ required: true }]}
                >
                  <Select
                    notFoundContent={t('stamps.noStampActivity')}
                    options={data.activities
                      .filter((a) => a.status !== 'ended')
                      .map((a) => ({
                        value: a.id,
                        label: `${a.name}（${t(`stamps.status.${a.status}`)}）`,
                      }))}
                    data-testid="exchange-stamp-activity"
                  />
                </Form.Item>
                <Space wrap>
                  <Form.Item
                    name="stampsPerVoucher"
                    label={t('stamps.stampsPerVoucher')}
                    rules={[{ required: true }]}
                  >
                    <InputNumber min={1} max={100} precision={0} data-testid="stamps-per-voucher" />
                  </Form.Item>
                  <Form.Item
                    name="holdTtlMinutes"
                    label={t('stamps.holdTtlMinutes')}
                    tooltip={t('stamps.holdTtlMinutesHelp')}
                  >
                    <InputNumber min={1} max={1440} precision={0} />
                  </Form.Item>
                </Space>
                <Space wrap>
                  <Form.Item name="budget" label={t('stamps.budget')} rules={[{ required: true }]}>
                    <InputNumber min={1} max={10_000_000} precision={0} data-testid="budget" />
                  </Form.Item>
                  <Form.Item
                    name="allowRepeatSend"
                    label={t('stamps.allowRepeatSend')}
                    valuePropName="checked"
                  >
                    <Switch />
                  </Form.Item>
                </Space>
              </Card>
            )}
          </Col>
          {type === 'POINT_SEND' ? (
            <Col xs={24} xl={12}>
              <Card size="small" title={t('stamps.sections.card')} style={{ marginBottom: 16 }}>
                <Form.Item
                  name={['card', 'name']}
                  label={t('stamps.card.name')}
                  rules={[{ required: true, max: 16 }]}
                >
                  <Input data-testid="stamp-card-name" />
                </Form.Item>
                <Form.Item
                  name={['card', 'description']}
                  label={t('stamps.card.description')}
                  extra={t('stamps.card.descriptionHelp')}
                  rules={[{ required: true, max: 16 }]}
                >
                  <Input data-testid="stamp-card-description" />
                </Form.Item>
                <Form.Item name={['card', 'logoImageId']} label={t('stamps.card.logo')}>
                  <ImagePicker
                    merchantId={merchant.id}
                    images={images}
                    onUploaded={(image) => setImages((list) => [...list, image])}
                    testId="stamp-logo"
                  />
                </Form.Item>
                <Form.Item
                  name="stampsToComplete"
                  label={t('stamps.stampsToComplete')}
                  extra={t('stamps.stampsToCompleteHelp')}
                  rules={[{ required: true }]}
                >
                  <InputNumber min={1} max={100} precision={0} data-testid="stamps-to-complete" />
                </Form.Item>
                <Form.Item
                  name="mirrorToKoubei"
                  label={t('stamps.mirrorToKoubei')}
                  extra={t('stamps.mirrorToKoubeiHelp')}
                  valuePropName="checked"
                >
                  <Switch />
                </Form.Item>
              </Card>
            </Col>
          ) : (
            <Col xs={24} xl={12}>
              <Card size="small" title={t('stamps.sections.voucher')} style={{ marginBottom: 16 }}>
                <Form.Item name={['voucher', 'type']} label={t('stamps.voucher.type')}>
                  <Radio.Group
                    options={(['MONEY', 'RATE'] as const).map((v) => ({
                      value: v,
                      label: t(`stamps.voucher.types.${v}`),
                    }))}
                  />
                </Form.Item>
                <Form.Item
                  name={['voucher', 'name']}
                  label={t('stamps.voucher.name')}
                  rules={[{ required: true, max: 16 }]}
                >
                  <Input data-testid="voucher-name" />
                </Form.Item>
                <Space wrap>
                  {voucherType === 'RATE' ? (
                    <Form.Item
                      name={['voucher', 'rate']}
                      label={t('stamps.voucher.rate')}
                      extra={t('stamps.voucher.rateHelp')}
                      rules={[{ required: true }]}
                    >
                      <InputNumber min={0.01} max={0.99} step={0.05} precision={2} />
                    </Form.Item>
                  ) : (
                    <Form.Item
                      name={['voucher', 'worth']}
                      label={t('stamps.voucher.worth')}
                      rules={[{ required: true }]}
                    >
                      <InputNumber min={0.01} precision={2} data-testid="voucher-worth" />
                    </Form.Item>
                  )}
                  <Form.Item
                    name={['voucher', 'minConsume']}
                    label={t('stamps.voucher.minConsume')}
                    tooltip={t('stamps.voucher.minConsumeHelp')}
                  >
                    <InputNumber min={0} precision={2} data-testid="voucher-min-consume" />
                  </Form.Item>
                </Space>
                <Form.Item
                  name={['voucher', 'validity', 'type']}
                  label={t('stamps.voucher.validity')}
                >
                  <Radio.Group
                    options={[
                      { value: 'RELATIVE', label: t('stamps.voucher.relative') },
                      { value: 'FIXED', label: t('stamps.voucher.fixed') },
                    ]}
                  />
                </Form.Item>
                {validityType === 'FIXED' ? (
                  <Form.Item name={['voucher', 'validity', 'period']} rules={[{ required: true }]}>
                    <DatePicker.RangePicker
                      showTime={{ format: 'HH:mm' }}
                      format="YYYY-MM-DD HH:mm"
                    />
                  </Form.Item>
                ) : (
                  <Form.Item
                    name={['voucher', 'validity', 'days']}
                    label={t('stamps.voucher.days')}
                    rules={[{ required: true }]}
                  >
                    <InputNumber min={1} max={365} precision={0} data-testid="voucher-days" />
                  </Form.Item>
                )}
                <Form.Item
                  name={['voucher', 'description']}
                  label={t('stamps.voucher.description')}
                  rules={[{ max: 64 }]}
                >
                  <Input />
                </Form.Item>
              </Card>
            </Col>
          )}
        </Row>
        <Space>
          <Button type="primary" htmlType="submit" loading={busy} data-testid="save-stamp-activity">
            {t('stamps.save')}
          </Button>
          <Button disabled={false} onClick={() => navigate(-1)}>
            {t('common.cancel')}
          </Button>
        </Space>
      </Form>
    </>
  )
}
