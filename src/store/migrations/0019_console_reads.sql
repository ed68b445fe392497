-- The operator console's reads, kept from growing with the data (docs/performance.md, "The
-- console's reads at a million messages").
--
-- Before, with a million messages in the tables: the overview's chart read the month's exchanges
-- and every delivery of every month (about 150 and 100 ms); the partners page sorted every
-- delivery ever made to find each recipient's latest (about 0.9 s); a search by unit code read
-- every case. Each grows with the data, without bound until retention drops a month.
--
-- Now:
--   - accepted per minute: exchange_keys, one row per exchange with the same received_at
--     (written together by tongban_accept, dropped together by retention), by its index on
--     received_at;
--   - delivered per minute and each recipient's latest delivery: this index, one entry per
--     delivered delivery (written by the settlement, already an update that rewrites the
--     row's index entries), read one recipient at a time;
--   - cases on a unit: their own index.
-- Building them reads the tables once, holding off writes to them meanwhile: 1.9 s for a million
-- deliveries and a million cases on the machine of docs/performance.md.
CREATE INDEX deliveries_delivered_idx ON deliveries (recipient, delivered_at) WHERE status = 'delivered';
CREATE INDEX cases_unit_idx ON cases (unit_code, created_at);
