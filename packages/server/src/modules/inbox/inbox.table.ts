export interface InboundMessagesTable {
  /** Where it came from: `alipay.notify`, `alipay.gateway`, `crm.nonce`, … */
  source: string
  /** The sender's id for the message (notify_id, nonce, …): unique per source. */
  message_id: string
  merchant_id: string | null
  received_at: string
  result: string | null
}
