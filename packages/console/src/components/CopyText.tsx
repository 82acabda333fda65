import { Typography } from 'antd'

/** A value staff paste elsewhere, with Ant Design's copy button. */
export function CopyText({ text, testId }: { text: string; testId?: string }) {
  return (
    <Typography.Text
      code
      copyable={{ text }}
      data-testid={testId}
      style={{ wordBreak: 'break-all' }}
    >
      {text}
    </Typography.Text>
  )
}
