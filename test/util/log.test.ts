import t from 'tap'
import { createLogger } from '../../src/util/log.ts'
import { maskAddress, maskIdNumber, maskName, maskPhone, scrubText } from '../../src/util/mask.ts'

// DESIGN §2.8 / DOMAIN: ID numbers, names, phones and addresses never appear in logs in clear.
t.test('masks (GB/T 35273 usage)', async (t) => {
  t.equal(maskIdNumber('11010519491231002X'), '110***********002X')
  t.equal(maskIdNumber('12345'), '****5')
  t.equal(maskIdNumber('E12345678'), '******678', 'a passport: most of it hidden')
  t.equal(maskIdNumber('12345678'), '******78')
  t.equal(maskIdNumber('AB'), '**')
  t.equal(maskIdNumber('231202850823402'), '231********3402', 'a 15-character resident ID')
  t.equal(maskPhone('13812345678'), '138****5678')
  t.equal(maskPhone('0455-8888888'), '********8888')
  t.equal(maskPhone('123'), '***')
  t.equal(maskName('张三丰'), '张**')
  t.equal(maskName('李'), '李*')
  t.equal(maskName(''), '')
  t.equal(maskAddress('绥化市北林区中直路88号2单元502室'), '绥化市****')
  t.equal(maskAddress('北林区中直路88号'), '北林区****')
  t.equal(maskAddress('中直路88号'), '中直路****')
  t.equal(scrubText('id 11010519491231002X, tel 13812345678, case 231202-2026-000123'), 'id 110***********002X, tel 138****5678, case 231202-2026-000123')
  t.equal(scrubText('unit 231202003004GB00012F00010001'), 'unit 231202003004GB00012F00010001', 'a unit code is not an ID number')
})

t.test('the logger redacts personal-data keys and scrubs free text', async (t) => {
  const lines: string[] = []
  const log = createLogger({ level: 'debug', stream: { write: (s: string) => { lines.push(s) } } })
  log.info({ caseId: 'C-1', party: { name: '张三', idNumber: '11010519491231002X', phone: '13812345678', address: '北林区中直路88号' }, body: { anything: '李四' } }, 'a message about 11010519491231002X')
  log.warn({ err: new Error('refused 13812345678 at 440524188001010014') }, 'failure')
  log.info({ headers: { authorization: 'Bearer secret-token' }, privateKey: 'PEM' }, 'auth')
  const text = lines.join('')
  for (const s of ['张三', '李四', '11010519491231002X', '13812345678', '北林区中直路88号', '440524188001010014', 'secret-token', '"PEM"']) t.notOk(text.includes(s), `${s} is not in the log`)
  t.match(text, /110\*{11}002X/, 'the free-text ID number is masked, not dropped')
  t.match(text, /"caseId":"C-1"/, 'non-personal fields stay')
  t.equal(lines.length, 3)
})
