import type { TemplateView } from '@kaguan/contracts'
import { Tag } from 'antd'
import { useTranslation } from 'react-i18next'

const COLOURS = { draft: 'default', published: 'green', changed: 'orange' } as const

export function TemplateStatusTag({ status }: { status: TemplateView['status'] }) {
  const { t } = useTranslation()
  return (
    <Tag color={COLOURS[status]} data-testid="template-status">
      {t(`templates.status.${status}`)}
    </Tag>
  )
}
