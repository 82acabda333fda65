import { kaguanProject } from '../../vitest.shared.js'

export default kaguanProject('emulator', { testTimeout: 30_000 })
