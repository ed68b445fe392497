import t from 'tap'
import { readFileSync } from 'node:fs'

// Issue 11 §6: the operators and most integrators read Chinese first. The Chinese documents are
// kept in step with the English ones: the same headings (level, section number and the code in
// them, in order) and the same error codes; the Java quickstart's program is the same program.
const ROOT = new URL('../../', import.meta.url)
const PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['README.md', 'README.zh-CN.md'],
  ['docs/protocol.md', 'docs/zh-CN/protocol.md'],
  ['docs/quickstart-java.md', 'docs/zh-CN/quickstart-java.md'],
  ['docs/console.md', 'docs/zh-CN/console.md'],
]

const read = (f: string): string => readFileSync(new URL(f, ROOT), 'utf8')
const withoutCode = (md: string): string => md.replace(/```[\s\S]*?```/g, '')

/** Each heading as `level number codes`: what a translation keeps (its words change, these do not). */
export function headings(md: string): string[] {
  return [...withoutCode(md).matchAll(/^(#{1,6})\s+(.*)$/gm)].map((m) => {
    const text = m[2] as string
    const num = /^(\d+(\.\d+)*)\.?\s/.exec(text)?.[1] ?? ''
    const codes = [...text.matchAll(/`([^`]+)`/g)].map((c) => c[1]).join(' ')
    return `${(m[1] as string).length} ${num} ${codes}`.trim()
  })
}

export function errorCodes(md: string): string[] {
  return [...new Set(md.match(/TB_ERR_[A-Z_]+/g) ?? [])].sort()
}

/** What one language has and the other lacks. */
export function drift(en: string, zh: string): { headings: string[]; codes: string[] } {
  const he = headings(en)
  const hz = headings(zh)
  const out: string[] = []
  for (let i = 0; i < Math.max(he.length, hz.length); i++) if (he[i] !== hz[i]) out.push(`heading ${i + 1}: "${he[i] ?? '(none)'}" ≠ "${hz[i] ?? '(none)'}"`)
  const ce = errorCodes(en)
  const cz = errorCodes(zh)
  return { headings: out, codes: [...ce.filter((c) => !cz.includes(c)).map((c) => `${c} only in English`), ...cz.filter((c) => !ce.includes(c)).map((c) => `${c} only in Chinese`)] }
}

t.test('each Chinese document has the headings and error codes of its English one', async (t) => {
  for (const [en, zh] of PAIRS) {
    const d = drift(read(en), read(zh))
    t.same(d.headings, [], `${zh}: headings as in ${en}`)
    t.same(d.codes, [], `${zh}: error codes as in ${en}`)
    t.ok(headings(read(en)).length >= 2, `${en} has headings to compare`)
    t.match(read(en), new RegExp(zh.replace(/^docs\//, '').replace('.', '\\.')), `${en} links to ${zh}`)
    t.match(read(zh), /\[English\]\(/, `${zh} links back to English`)
  }
})

t.test('the Java quickstart is the same program in both languages', async (t) => {
  const program = (md: string): string[] => [...md.matchAll(/```java\n([\s\S]*?)```/g)].map((m) => m[1] as string)
  t.same(program(read('docs/zh-CN/quickstart-java.md')), program(read('docs/quickstart-java.md')))
})

t.test('the check fails on a heading or an error code missing from one side', async (t) => {
  const en = '# Title\n\n## 1. Send — `POST /v1/messages`\n\n409 `TB_ERR_REPLAY`\n\n## 2. Retry\n'
  t.same(drift(en, '# 标题\n\n## 1. 发送——`POST /v1/messages`\n\n409 `TB_ERR_REPLAY`\n\n## 2. 重试\n'), { headings: [], codes: [] }, 'a faithful translation')
  t.same(drift(en, '# 标题\n\n## 1. 发送——`POST /v1/messages`\n\n409 `TB_ERR_REPLAY`\n').headings, ['heading 3: "2 2" ≠ "(none)"'], 'a heading missing')
  t.same(drift(en, '# 标题\n\n## 1. 发送——`POST /v1/queries`\n\n409 `TB_ERR_REPLAY`\n\n## 2. 重试\n').headings.length, 1, 'another endpoint in a heading')
  t.same(drift(en, '# 标题\n\n## 1. 发送——`POST /v1/messages`\n\n409\n\n## 2. 重试\n').codes, ['TB_ERR_REPLAY only in English'], 'an error code missing')
  t.same(headings('# A\n```sh\n# not a heading\n```\n## B\n'), ['1', '2'], 'comments in code blocks are not headings')
})
