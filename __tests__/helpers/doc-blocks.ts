/**
 * The code blocks of a Markdown file: fenced ```ts / ```typescript / ```js / ```javascript
 * blocks, with the marker written on the line before the fence, if any:
 * `<!-- runs -->` (a complete program that runs and exits by itself) or `<!-- fragment -->`
 * (a piece of a larger program, which cannot compile alone).
 */
import { readFileSync } from 'node:fs'

export type DocBlockMark = 'runs' | 'fragment'

export interface DocBlock {
  /** The Markdown file, as given. */
  file: string
  /** 1-based line of the opening fence. */
  line: number
  language: 'ts' | 'js'
  code: string
  mark: DocBlockMark | undefined
}

const FENCE = /^(\s*)(`{3,})(\S*)\s*$/
const LANGUAGES: Record<string, DocBlock['language']> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' }
const MARK = /^\s*<!--\s*(runs|fragment)\s*-->\s*$/

export function docBlocks(file: string): DocBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n')
  const blocks: DocBlock[] = []
  for (let start = 0; start < lines.length; start++) {
    const open = FENCE.exec(lines[start]!)
    if (!open) continue
    const [, indent = '', fence = '', info = ''] = open
    let end = start + 1
    while (end < lines.length && lines[end]!.trim() !== fence) end++
    if (end === lines.length) throw new Error(`${file}:${start + 1}: code block never closed`)
    const language = LANGUAGES[info.toLowerCase()]
    if (language !== undefined) {
      const code = lines
        .slice(start + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
        .join('\n')
      const mark = MARK.exec(lines[start - 1] ?? '')?.[1] as DocBlockMark | undefined
      blocks.push({ file, line: start + 1, language, code: `${code}\n`, mark })
    }
    start = end
  }
  return blocks
}
