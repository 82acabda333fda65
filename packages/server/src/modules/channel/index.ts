export { createChannelRunner, type ChannelRunner } from './channel.runner.js'
