import { DeleteOutlined, PlusOutlined } from '@ant-design/icons'
import { CodeTypes, FormFields, type ImageView, type ShopView } from '@kaguan/contracts'
import {
  Button,
  Card,
  Checkbox,
  Form,
  Input,
  InputNumber,
  Radio,
  Select,
  Space,
  Typography,
} from 'antd'
import { useTranslation } from 'react-i18next'
import { ImagePicker } from './ImagePicker.js'

export function BasicSection({ shops }: { shops: ShopView[] }) {
  const { t } = useTranslation()
  const form = Form.useFormInstance()
  const validity = Form.useWatch(['basic', 'validity', 'type'], form) as string | undefined
  return (
    <Card title={t('templates.editor.basic')} size="small">
      <Form.Item
        name={['basic', 'name']}
        label={t('templates.editor.name')}
        rules={[{ required: true, max: 32 }]}
      >
        <Input data-testid="template-name" />
      </Form.Item>
      <Form.Item name={['basic', 'validity', 'type']} label={t('templates.editor.validity')}>
        <Radio.Group>
          <Radio value="permanent">{t('templates.editor.permanent')}</Radio>
          <Radio value="fixedEnd">{t('templates.editor.fixedEnd')}</Radio>
          <Radio value="afterClaim">{t('templates.editor.afterClaim')}</Radio>
        </Radio.Group>
      </Form.Item>
      {validity === 'fixedEnd' && (
        <Form.Item
          name={['basic', 'validity', 'endDate']}
          label={t('templates.editor.endDate')}
          rules={[{ required: true }]}
        >
          <Input type="date" style={{ width: 200 }} />
        </Form.Item>
      )}
      {validity === 'afterClaim' && (
        <Form.Item
          name={['basic', 'validity', 'days']}
          label={t('templates.editor.days')}
          rules={[{ required: true }]}
        >
          <InputNumber min={1} max={3650} />
        </Form.Item>
      )}
      <Form.Item
        name={['basic', 'shopIds']}
        label={t('templates.editor.shops')}
        extra={t('templates.editor.shopsHelp')}
      >
        <Select
          mode="multiple"
          options={shops.map((s) => ({
            value: s.id,
            label: s.alipayShopId ? s.name : `${s.name} (${t('shops.noAlipayShopId')})`,
          }))}
        />
      </Form.Item>
      <Form.Item name={['basic', 'servicePhone']} label={t('templates.editor.servicePhone')}>
        <Input style={{ width: 240 }} />
      </Form.Item>
      <Form.Item name={['basic', 'description']} label={t('templates.editor.description')}>
        <Input.TextArea rows={2} maxLength={256} />
      </Form.Item>
    </Card>
  )
}

export function StyleSection({
  merchantId,
  images,
  onUploaded,
}: {
  merchantId: string
  images: ImageView[]
  onUploaded: (image: ImageView) => void
}) {
  const { t } = useTranslation()
  const form = Form.useFormInstance()
  const code = Form.useWatch(['style', 'code', 'type'], form) as string | undefined
  return (
    <Card title={t('templates.editor.style')} size="small">
      <Form.Item
        name={['style', 'displayName']}
        label={t('templates.editor.displayName')}
        extra={t('templates.editor.displayNameHelp')}
      >
        <Input maxLength={32} />
      </Form.Item>
      <Form.Item
        name={['style', 'logoImageId']}
        label={t('templates.editor.logo')}
        extra={t('templates.editor.logoHelp')}
        rules={[{ required: true, message: t('templates.editor.imageRequired') }]}
      >
        <ImagePicker
          merchantId={merchantId}
          images={images}
          onUploaded={onUploaded}
          testId="upload-logo"
        />
      </Form.Item>
      <Form.Item
        name={['style', 'backgroundImageId']}
        label={t('templates.editor.background')}
        extra={t('templates.editor.backgroundHelp')}
        rules={[{ required: true, message: t('templates.editor.imageRequired') }]}
      >
        <ImagePicker
          merchantId={merchantId}
          images={images}
          onUploaded={onUploaded}
          testId="upload-background"
        />
      </Form.Item>
      <Space size="large">
        <Form.Item name={['style', 'fontColor']} label={t('templates.editor.fontColor')}>
          <Input type="color" style={{ width: 80 }} />
        </Form.Item>
        <Form.Item
          name={['style', 'backgroundColor']}
          label={t('templates.editor.backgroundColor')}
        >
          <Input type="color" style={{ width: 80 }} />
        </Form.Item>
      </Space>
      <Space size="large" wrap>
        <Form.Item name={['style', 'code', 'type']} label={t('templates.editor.codeType')}>
          <Select
            style={{ width: 200 }}
            options={CodeTypes.map((c) => ({ value: c, label: t(`templates.codeTypes.${c}`) }))}
          />
        </Form.Item>
        {code?.startsWith('dynamic') && (
          <Form.Item
            name={['style', 'code', 'refreshSeconds']}
            label={t('templates.editor.refreshSeconds')}
          >
            <InputNumber min={30} max={600} placeholder="60" />
          </Form.Item>
        )}
      </Space>
    </Card>
  )
}

const COLUMN_KINDS = ['point', 'level', 'balance', 'text', 'link'] as const

export function ColumnsSection() {
  const { t } = useTranslation()
  const form = Form.useFormInstance()
  return (
    <Card
      title={t('templates.editor.columns')}
      size="small"
      extra={t('templates.editor.columnsHelp')}
    >
      <Form.List name="columns">
        {(fields, { add, remove }, { errors }) => (
          <>
            {fields.map((field) => (
              <Space key={field.key} align="baseline" wrap style={{ display: 'flex' }}>
                <Form.Item name={[field.name, 'kind']} rules={[{ required: true }]}>
                  <Select
                    style={{ width: 140 }}
                    options={COLUMN_KINDS.map((k) => ({
                      value: k,
                      label: t(`templates.columnKinds.${k}`),
                    }))}
                  />
                </Form.Item>
                <Form.Item name={[field.name, 'title']} rules={[{ required: true, max: 16 }]}>
                  <Input placeholder={t('templates.editor.columnTitle')} style={{ width: 140 }} />
                </Form.Item>
                <Form.Item noStyle shouldUpdate>
                  {() => {
                    const kind = form.getFieldValue(['columns', field.name, 'kind']) as string
                    if (kind === 'text') {
                      return (
                        <Form.Item name={[field.name, 'value']} rules={[{ max: 64 }]}>
                          <Input placeholder={t('templates.editor.columnValue')} />
                        </Form.Item>
                      )
                    }
                    if (kind === 'link') {
                      return (
                        <Form.Item name={[field.name, 'url']} rules={[{ required: true }]}>
                          <Input placeholder="https://" />
                        </Form.Item>
                      )
                    }
                    return null
                  }}
                </Form.Item>
                <Button
                  icon={<DeleteOutlined />}
                  onClick={() => remove(field.name)}
                  aria-label={t('common.delete')}
                />
              </Space>
            ))}
            <Form.ErrorList errors={errors} />
            <Button
              type="dashed"
              icon={<PlusOutlined />}
              disabled={fields.length >= 10}
              onClick={() => add({ kind: 'text', title: '', value: '' })}
              data-testid="add-column"
            >
              {t('templates.editor.addColumn')}
            </Button>
          </>
        )}
      </Form.List>
    </Card>
  )
}

export function LevelsSection() {
  const { t } = useTranslation()
  const form = Form.useFormInstance()
  const levels = (Form.useWatch('levels', form) ?? []) as { code?: string; name?: string }[]
  return (
    <Card
      title={t('templates.editor.levels')}
      size="small"
      extra={t('templates.editor.levelsHelp')}
    >
      <Form.List name="levels">
        {(fields, { add, remove }, { errors }) => (
          <>
            {fields.map((field) => (
              <Space key={field.key} align="baseline" wrap style={{ display: 'flex' }}>
                <Form.Item
                  name={[field.name, 'code']}
                  rules={[
                    {
                      required: true,
                      pattern: /^[A-Za-z0-9_-]{1,32}$/,
                      message: t('templates.editor.levelCodeRule'),
                    },
                  ]}
                >
                  <Input
                    placeholder={t('templates.editor.levelCode')}
                    style={{ width: 140 }}
                    data-testid="level-code"
                  />
                </Form.Item>
                <Form.Item name={[field.name, 'name']} rules={[{ required: true, max: 16 }]}>
                  <Input
                    placeholder={t('templates.editor.levelName')}
                    style={{ width: 140 }}
                    data-testid="level-name"
                  />
                </Form.Item>
                <Form.Item name={[field.name, 'description']} rules={[{ max: 128 }]}>
                  <Input placeholder={t('templates.editor.levelDescription')} />
                </Form.Item>
                <Button
                  icon={<DeleteOutlined />}
                  onClick={() => remove(field.name)}
                  aria-label={t('common.delete')}
                />
              </Space>
            ))}
            <Form.ErrorList errors={errors} />
            <Button
              type="dashed"
              icon={<PlusOutlined />}
              disabled={fields.length >= 20}
              onClick={() => add({ code: '', name: '' })}
              data-testid="add-level"
            >
              {t('templates.editor.addLevel')}
            </Button>
          </>
        )}
      </Form.List>
      <Space size="large" wrap style={{ marginTop: 16 }}>
        <Form.Item name={['defaults', 'level']} label={t('templates.editor.defaultLevel')}>
          <Select
            allowClear
            style={{ width: 180 }}
            options={levels
              .filter((l) => l?.code)
              .map((l) => ({ value: l.code!, label: l.name || l.code }))}
          />
        </Form.Item>
        <Form.Item name={['defaults', 'point']} label={t('templates.editor.defaultPoint')}>
          <InputNumber min={0} />
        </Form.Item>
        <Form.Item
          name={['defaults', 'balance']}
          label={t('templates.editor.defaultBalance')}
          rules={[{ pattern: /^\d+(\.\d{1,2})?$/, message: t('templates.editor.balanceRule') }]}
        >
          <Input style={{ width: 120 }} placeholder="0.00" />
        </Form.Item>
      </Space>
    </Card>
  )
}

export function ActionsSection() {
  const { t } = useTranslation()
  const form = Form.useFormInstance()
  return (
    <Card
      title={t('templates.editor.actions')}
      size="small"
      extra={t('templates.editor.actionsHelp')}
    >
      <Form.List name="actions">
        {(fields, { add, remove }, { errors }) => (
          <>
            {fields.map((field) => (
              <Card
                key={field.key}
                size="small"
                style={{ marginBottom: 8 }}
                extra={
                  <Button
                    size="small"
                    icon={<DeleteOutlined />}
                    onClick={() => remove(field.name)}
                    aria-label={t('common.delete')}
                  />
                }
              >
                <Space align="baseline" wrap>
                  <Form.Item
                    name={[field.name, 'text']}
                    label={t('templates.editor.actionText')}
                    rules={[
                      { required: true, max: 6, message: t('templates.editor.actionTextRule') },
                    ]}
                  >
                    <Input style={{ width: 120 }} data-testid="action-text" />
                  </Form.Item>
                  <Form.Item
                    name={[field.name, 'code']}
                    label={t('templates.editor.actionCode')}
                    rules={[
                      {
                        required: true,
                        pattern: /^[A-Za-z0-9_]{1,32}$/,
                        message: t('templates.editor.actionCodeRule'),
                      },
                    ]}
                  >
                    <Input style={{ width: 120 }} data-testid="action-code" />
                  </Form.Item>
                  <Form.Item name={[field.name, 'showInCardBag']} valuePropName="checked">
                    <Checkbox>{t('templates.editor.showInCardBag')}</Checkbox>
                  </Form.Item>
                </Space>
                <Form.Item
                  name={[field.name, 'target', 'kind']}
                  label={t('templates.editor.actionTarget')}
                >
                  <Radio.Group>
                    <Radio value="url">{t('templates.editor.targetUrl')}</Radio>
                    <Radio value="miniProgram">{t('templates.editor.targetMiniProgram')}</Radio>
                  </Radio.Group>
                </Form.Item>
                <Form.Item noStyle shouldUpdate>
                  {() =>
                    form.getFieldValue(['actions', field.name, 'target', 'kind']) ===
                    'miniProgram' ? (
                      <Space wrap>
                        <Form.Item
                          name={[field.name, 'target', 'appId']}
                          label={t('templates.editor.miniAppId')}
                          rules={[
                            {
                              required: true,
                              pattern: /^\d{16}$/,
                              message: t('merchant.alipay.appIdRule'),
                            },
                          ]}
                        >
                          <Input style={{ width: 200 }} />
                        </Form.Item>
                        <Form.Item
                          name={[field.name, 'target', 'page']}
                          label={t('templates.editor.miniPage')}
                        >
                          <Input placeholder="pages/index/index" />
                        </Form.Item>
                        <Form.Item
                          name={[field.name, 'target', 'query']}
                          label={t('templates.editor.miniQuery')}
                        >
                          <Input placeholder="a=1" />
                        </Form.Item>
                      </Space>
                    ) : (
                      <Form.Item
                        name={[field.name, 'target', 'url']}
                        label={t('templates.editor.actionUrl')}
                        rules={[{ required: true }]}
                      >
                        <Input placeholder="https://" data-testid="action-url" />
                      </Form.Item>
                    )
                  }
                </Form.Item>
              </Card>
            ))}
            <Form.ErrorList errors={errors} />
            <Button
              type="dashed"
              icon={<PlusOutlined />}
              disabled={fields.length >= 4}
              onClick={() =>
                add({
                  code: `action${fields.length + 1}`,
                  text: '',
                  target: { kind: 'url', url: '' },
                  showInCardBag: false,
                })
              }
              data-testid="add-action"
            >
              {t('templates.editor.addAction')}
            </Button>
          </>
        )}
      </Form.List>
    </Card>
  )
}

export function FormFieldsSection() {
  const { t } = useTranslation()
  return (
    <Card
      title={t('templates.editor.formFields')}
      size="small"
      extra={t('templates.editor.formFieldsHelp')}
    >
      {FormFields.map((f) => (
        <Form.Item
          key={f}
          name={['formFields', f]}
          label={t(`templates.fields.${f}`)}
          style={{ marginBottom: 8 }}
        >
          <Radio.Group optionType="button" size="small" data-testid={`form-field-${f}`}>
            <Radio value="off">{t('templates.editor.fieldOff')}</Radio>
            <Radio value="optional">{t('templates.editor.fieldOptional')}</Radio>
            <Radio value="required">{t('templates.editor.fieldRequired')}</Radio>
          </Radio.Group>
        </Form.Item>
      ))}
    </Card>
  )
}

/** Limits against farming the opening gift: per user, per phone, per network, per day. */
export function ClaimLimitsSection() {
  const { t } = useTranslation()
  const count = (name: (string | number)[], testId: string) => (
    <Form.Item name={name} noStyle>
      <InputNumber
        min={1}
        precision={0}
        placeholder={t('templates.editor.noLimit')}
        data-testid={testId}
      />
    </Form.Item>
  )
  const windowRow = (key: 'perDevice' | 'perIp') => (
    <Form.Item label={t(`templates.editor.${key}`)} style={{ marginBottom: 8 }}>
      <Space>
        {count(['claimLimits', key, 'max'], `limit-${key}-max`)}
        <span>{t('templates.editor.withinMinutes')}</span>
        <Form.Item name={['claimLimits', key, 'windowMinutes']} noStyle>
          <InputNumber min={1} max={43_200} precision={0} placeholder="1440" />
        </Form.Item>
      </Space>
    </Form.Item>
  )
  return (
    <Card
      title={t('templates.editor.claimLimits')}
      size="small"
      extra={t('templates.editor.claimLimitsHelp')}
      data-testid="claim-limits"
    >
      <Form.Item label={t('templates.editor.perUser')} style={{ marginBottom: 8 }}>
        <Space>
          {count(['claimLimits', 'perUser'], 'limit-perUser')}
          <span>{t('templates.editor.cards')}</span>
        </Space>
      </Form.Item>
      {windowRow('perDevice')}
      {windowRow('perIp')}
      <Form.Item label={t('templates.editor.perDay')} style={{ marginBottom: 0 }}>
        <Space>
          {count(['claimLimits', 'perDay'], 'limit-perDay')}
          <span>{t('templates.editor.cards')}</span>
        </Space>
      </Form.Item>
    </Card>
  )
}

/** How Alipay opens the card: 3.1 极速版 (recommended) or the 3.0 callback chain. */
export function OpenCardModeSection() {
  const { t } = useTranslation()
  const mode = Form.useWatch('openCardMode') as string | undefined
  return (
    <Card title={t('templates.editor.openCardMode')} size="small">
      {/* A template saved before 3.1 existed has no mode: it opens 3.0. */}
      <Form.Item name="openCardMode" initialValue="3.0" style={{ marginBottom: 8 }}>
        <Radio.Group data-testid="open-card-mode">
          <Radio value="3.1">{t('templates.editor.openCardMode31')}</Radio>
          <Radio value="3.0">{t('templates.editor.openCardMode30')}</Radio>
        </Radio.Group>
      </Form.Item>
      <Typography.Text type="secondary">
        {t(
          mode === '3.0'
            ? 'templates.editor.openCardMode30Help'
            : 'templates.editor.openCardMode31Help',
        )}
      </Typography.Text>
    </Card>
  )
}
