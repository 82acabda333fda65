import { UploadOutlined } from '@ant-design/icons'
import type { ImageUploadBody, ImageView } from '@kaguan/contracts'
import { Button, Image, Select, Space, Upload } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../../api/client.js'
import { useErrorReporter } from '../hooks.js'

const TYPES = new Set(['jpg', 'jpeg', 'png', 'gif', 'bmp'])

function base64Of(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''))
    reader.onerror = () => reject(reader.error ?? new Error('read failed'))
    reader.readAsDataURL(file)
  })
}

/** Picks an uploaded image, or uploads a new one to Alipay (the value is kaguan's image id). */
export function ImagePicker({
  merchantId,
  images,
  onUploaded,
  value,
  onChange,
  testId,
}: {
  merchantId: string
  images: ImageView[]
  onUploaded: (image: ImageView) => void
  value?: string
  onChange?: (id: string) => void
  testId?: string
}) {
  const { t } = useTranslation()
  const report = useErrorReporter()
  const [busy, setBusy] = useState(false)
  const current = images.find((i) => i.id === value)
  return (
    <Space align="start" wrap>
      {current && <Image src={current.url} width={64} height={64} style={{ objectFit: 'cover' }} />}
      <Space direction="vertical">
        <Select
          style={{ width: 240 }}
          value={value || undefined}
          placeholder={t('templates.editor.pickImage')}
          options={images.map((i) => ({ value: i.id, label: i.name }))}
          onChange={(id) => onChange?.(id)}
        />
        <Upload
          accept="image/png,image/jpeg,image/gif,image/bmp"
          showUploadList={false}
          beforeUpload={async (file) => {
            const ext = (file.name.split('.').pop() ?? '').toLowerCase()
            if (!TYPES.has(ext)) {
              report(new Error(t('templates.editor.imageType')))
              return false
            }
            setBusy(true)
            try {
              const body: ImageUploadBody = {
                name: file.name.slice(0, 64),
                type: ext as ImageUploadBody['type'],
                contentBase64: await base64Of(file),
              }
              const image = await api<ImageView>(
                'POST',
                `/api/merchants/${merchantId}/images`,
                body,
              )
              onUploaded(image)
              onChange?.(image.id)
            } catch (e) {
              report(e)
            } finally {
              setBusy(false)
            }
            return false
          }}
        >
          <Button icon={<UploadOutlined />} loading={busy} data-testid={testId}>
            {t('templates.editor.upload')}
          </Button>
        </Upload>
      </Space>
    </Space>
  )
}
