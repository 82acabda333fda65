/**
 * Masking of personal data for logs, audit entries and list views: enough left to recognise a
 * person on the phone, not enough to identify them.
 */
export function maskMobile(value: string): string {
  const digits = value.trim()
  if (digits.length < 7) {
    return '*'.repeat(digits.length)
  }
  return `${digits.slice(0, 3)}****${digits.slice(-4)}`
}

export function maskName(value: string): string {
  const chars = [...value.trim()]
  if (chars.length <= 1) {
    return '*'
  }
  return chars[0] + '*'.repeat(Math.min(chars.length - 1, 3))
}

export function maskCertNo(value: string): string {
  const v = value.trim()
  if (v.length <= 8) {
    return '*'.repeat(v.length)
  }
  return `${v.slice(0, 4)}${'*'.repeat(v.length - 8)}${v.slice(-4)}`
}

/** The masker for a personal-data field name, or undefined when the name is not personal data. */
export function maskerFor(field: string): ((value: string) => string) | undefined {
  switch (field.toLowerCase()) {
    case 'mobile':
    case 'phone':
      return maskMobile
    case 'name':
    case 'realname':
      return maskName
    case 'certno':
    case 'cert_no':
    case 'idcard':
      return maskCertNo
    default:
      return undefined
  }
}
