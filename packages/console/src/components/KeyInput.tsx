import { UploadOutlined } from '@ant-design/icons'
import { Button, Input, Space, Upload } from 'antd'
import { useTranslation } from 'react-i18next'

/** A key pasted as text or read from a file (.pem/.txt); the text goes to the form as is. */
export function KeyInput({
  value,
  onChange,
  placeholder,
  id,
}: {
  value?: string
  onChange?: (value: string) => void
  placeholder?: string
  id?: string
}) {
  const { t } = useTranslation()
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Input.TextArea
        id={id}
        rows={4}
        value={value}
        placeholder={placeholder}
        onChange={(e) => onChange?.(e.target.value)}
        style={{ fontFamily: 'monospace', fontSize: 12 }}
      />
      <Upload
        accept=".pem,.txt,.key,.crt"
        showUploadList={false}
        beforeUpload={async (file) => {
          onChange?.((await file.text()).trim())
          return false
        }}
      >
        <Button size="small" icon={<UploadOutlined />}>
          {t('merchant.keyFromFile')}
        </Button>
      </Upload>
    </Space>
  )
}
