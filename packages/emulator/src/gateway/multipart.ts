/** One part of a multipart/form-data body. */
export interface MultipartPart {
  name: string
  filename?: string
  contentType?: string
  data: Buffer
}

/**
 * A small multipart/form-data parser: enough for what alipay-sdk's formstream sends (text fields and
 * file parts). Written here so the emulator needs no extra dependency for one upload API.
 */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const boundaryMatch = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType)
  const boundary = boundaryMatch?.[1] ?? boundaryMatch?.[2]
  if (boundary === undefined) {
    throw new Error('multipart body without boundary')
  }
  const delimiter = Buffer.from(`--${boundary.trim()}`)
  const parts: MultipartPart[] = []
  let start = body.indexOf(delimiter)
  while (start !== -1) {
    const afterDelimiter = start + delimiter.length
    // `--` after the delimiter closes the body.
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') {
      break
    }
    const next = body.indexOf(delimiter, afterDelimiter)
    if (next === -1) {
      break
    }
    const section = body.subarray(afterDelimiter + 2, next - 2) // strip CRLF after delimiter and before next
    const headerEnd = section.indexOf('\r\n\r\n')
    if (headerEnd !== -1) {
      const headers = section.subarray(0, headerEnd).toString('utf8')
      const data = section.subarray(headerEnd + 4)
      const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? ''
      const name = /\bname="([^"]*)"/i.exec(disposition)?.[1]
      const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1]
      const type = /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]
      if (name !== undefined) {
        parts.push({
          name,
          data: Buffer.from(data),
          ...(filename !== undefined ? { filename } : {}),
          ...(type !== undefined ? { contentType: type.trim() } : {}),
        })
      }
    }
    start = next
  }
  return parts
}
