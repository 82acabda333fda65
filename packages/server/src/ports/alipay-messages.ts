import {
  channelUrlOf,
  createMessageChannel,
  type ChannelEvent,
  type ChannelMessage,
  type MessageChannel,
} from '@kaguan/alipay'
import type { AlipayApp } from './alipay.js'

export type { ChannelEvent, ChannelMessage, MessageChannel } from '@kaguan/alipay'

/**
 * Alipay's message long connection (长连接) behind a port: the worker asks for a channel per app and
 * says what to do with each verified message; tests swap in a fake or point it at the emulator.
 * The channel server is Alipay's `openchannel` host for Alipay's gateways, else the gateway's origin
 * (the emulator serves both).
 */
export interface AlipayMessagesPort {
  open(
    app: AlipayApp,
    handlers: {
      onMessage: (message: ChannelMessage) => Promise<void>
      onEvent?: (event: ChannelEvent) => void
    },
  ): MessageChannel
}

export interface AlipayMessagesOptions {
  pingMs?: number
  backoff?: { baseMs?: number; maxMs?: number }
  timeoutMs?: number
}

export function createAlipayMessagesPort(options: AlipayMessagesOptions = {}): AlipayMessagesPort {
  return {
    open(app, handlers) {
      return createMessageChannel({
        appId: app.appId,
        privateKey: app.privateKey,
        alipayPublicKey: app.alipayPublicKey,
        serverUrl: channelUrlOf(app.gateway),
        onMessage: handlers.onMessage,
        ...(handlers.onEvent ? { onEvent: handlers.onEvent } : {}),
        ...options,
      })
    },
  }
}
