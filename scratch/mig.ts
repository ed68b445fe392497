import { migrate, openDb } from '../src/store/db.ts'
import { DATABASE_URL, dropSchema } from '../test/helpers/services.ts'
const schema = 'scratch_mig'
const CASES = 1_000_000
await dropSchema(schema)
const db = openDb(DATABASE_URL, schema, 2)
await migrate(db, schema, '0020')
await db.query(`INSERT INTO cases (case_id, unit_code, opened_by, created_at)
  SELECT '231202-2026-' || lpad(i::text, 7, '0'), 'u', 'REG:231202', now() - interval '30 days' + i * interval '2 seconds' FROM generate_series(1, $1::int) i`, [CASES])
await db.query(`INSERT INTO case_participants (case_id, participant, confirmed) SELECT case_id, 'REG:231202', true FROM cases`)
await db.query(`INSERT INTO case_participants (case_id, participant, confirmed) SELECT case_id, 'TAX:231202', true FROM cases WHERE case_id <= '231202-2026-0500000'`)
await db.query('VACUUM ANALYZE')
const fn = `CREATE FUNCTION tongban_participant_case_time() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF NEW.case_created_at IS NULL THEN
    SELECT created_at INTO NEW.case_created_at FROM cases WHERE case_id = NEW.case_id;
  END IF;
  RETURN NEW;
END $f$`
const A = ['ALTER TABLE case_participants ADD COLUMN case_created_at timestamptz',
  'UPDATE case_participants p SET case_created_at = c.created_at FROM cases c WHERE c.case_id = p.case_id', fn,
  'ALTER TABLE case_participants ALTER COLUMN case_created_at SET NOT NULL',
  'CREATE INDEX case_participants_newest ON case_participants (participant, case_created_at DESC, case_id)',
  'DROP INDEX case_participants_by_participant', 'CREATE INDEX case_steps_open_due_idx ON case_steps (due_at) WHERE status = \'open\'']
const B = ['DROP INDEX case_participants_by_participant', 'ALTER TABLE case_participants ADD COLUMN case_created_at timestamptz',
  'UPDATE case_participants p SET case_created_at = c.created_at FROM cases c WHERE c.case_id = p.case_id', fn,
  'ALTER TABLE case_participants ALTER COLUMN case_created_at SET NOT NULL',
  'CREATE INDEX case_participants_newest ON case_participants (participant, case_created_at DESC, case_id)']
const c = await db.connect()
await c.query(`SET search_path TO "${schema}"`)
for (const [name, list] of [['A', A], ['B', B], ['A', A], ['B', B]] as const) {
  await c.query('BEGIN')
  const t0 = Date.now()
  for (const stmt of list) {
    const s = Date.now()
    await c.query(stmt)
    console.log(`  ${Date.now() - s} ms: ${stmt.slice(0, 70).replace(/\s+/g, ' ')}`)
  }
  console.log(`${name}: ${Date.now() - t0} ms`)
  await c.query('ROLLBACK')
}
await c.query('ROLLBACK')
c.release()
await db.end()
await dropSchema(schema)
