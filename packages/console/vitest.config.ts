import { kaguanProject } from '../../vitest.shared.js'

export default kaguanProject('console')
