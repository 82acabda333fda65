/** Alipay's public gateway codes and their `msg` texts (alipay-card-api.md §1.6). */
export const GatewayCode = {
  Success: '10000',
  Unavailable: '20000',
  TokenPermission: '20001',
  Missing: '40001',
  Invalid: '40002',
  Business: '40004',
  Permission: '40006',
} as const
export type GatewayCode = (typeof GatewayCode)[keyof typeof GatewayCode]

/** The `msg` Alipay sends with each code. */
export const gatewayMsg: Record<GatewayCode, string> = {
  '10000': 'Success',
  '20000': 'Service Currently Unavailable',
  '20001': 'Insufficient Token Permissions',
  '40001': 'Missing Required Arguments',
  '40002': 'Invalid Arguments',
  '40004': 'Business Failed',
  '40006': 'Insufficient Permissions',
}

/** A failed gateway call: becomes a signed `{code,msg,sub_code,sub_msg}` response node. */
export class GatewayError extends Error {
  override name = 'GatewayError'
  readonly code: GatewayCode
  readonly subCode: string
  readonly subMsg: string
  constructor(code: GatewayCode, subCode: string, subMsg: string) {
    super(`${code} ${subCode}: ${subMsg}`)
    this.code = code
    this.subCode = subCode
    this.subMsg = subMsg
  }
}

/** 40004 with a business sub code. */
export function businessError(subCode: string, subMsg: string): GatewayError {
  return new GatewayError(GatewayCode.Business, subCode, subMsg)
}

/** The card APIs' parameter error (40004 INVALID_PARAMETER "参数有误…", seen for action points). */
export function invalidParameter(detail: string): GatewayError {
  return businessError('INVALID_PARAMETER', `参数有误。${detail}`)
}

/** 40002 isv.invalid-parameter for malformed protocol-level input (e.g. biz_content that is not JSON). */
export function invalidArgument(detail: string): GatewayError {
  return new GatewayError(GatewayCode.Invalid, 'isv.invalid-parameter', `参数无效:${detail}`)
}
