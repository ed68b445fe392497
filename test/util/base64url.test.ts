import { randomBytes } from 'node:crypto'
import t from 'tap'
import { isCanonicalBase64url } from '../../src/util/base64url.ts'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

t.test('what an encoder writes is canonical; the same bytes written any other way are not', async (t) => {
  let others = 0
  let wrong = 0
  for (let n = 0; n <= 40; n++) {
    const bytes = randomBytes(n)
    const text = bytes.toString('base64url')
    if (!isCanonicalBase64url(text)) wrong++
    if (text === '') continue
    for (const c of ALPHABET) {
      const other = `${text.slice(0, -1)}${c}`
      if (other === text) continue
      const decoded = Buffer.from(other, 'base64url')
      // Canonical: what an encoder writes for the bytes it decodes to. The same bytes as the
      // original's, written another way, never are.
      if (isCanonicalBase64url(other) !== (decoded.toString('base64url') === other)) wrong++
      if (decoded.equals(bytes)) { others++; if (isCanonicalBase64url(other)) wrong++ }
    }
  }
  t.equal(wrong, 0, 'every length from 0 to 40 bytes, every last character')
  t.ok(others > 0, `${others} other texts of the same bytes were tried (the check is not vacuous)`)
})

t.test('a lone last character, padding and other alphabets are refused', async (t) => {
  t.equal(isCanonicalBase64url('QUJD' + 'R'), false, '4k+1 characters: no whole byte in the last one')
  t.equal(isCanonicalBase64url('QQ=='), false, 'padding')
  t.equal(isCanonicalBase64url('a+b/'), false, 'base64, not base64url')
  t.equal(isCanonicalBase64url('QQ\n'), false, 'white space')
  t.equal(isCanonicalBase64url(''), true, 'empty (a detached JWS payload)')
  t.equal(isCanonicalBase64url('QQ'), true)
  t.equal(isCanonicalBase64url('QR'), false, 'the same byte as QQ')
})
