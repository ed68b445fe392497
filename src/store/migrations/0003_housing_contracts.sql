-- Filed sale contracts (网签备案) as housing bureaus report them, so that a later tax
-- assessment request for the same unit and contract links the contract to its case.
CREATE TABLE housing_contracts (
  unit_code       text NOT NULL,
  contract_number text NOT NULL,
  filing_number   text NOT NULL,
  sender          text NOT NULL,
  exchange_id     uuid NOT NULL REFERENCES exchanges (id),
  filed_at        timestamptz NOT NULL,
  PRIMARY KEY (unit_code, contract_number)
);
CREATE INDEX housing_contracts_filing_idx ON housing_contracts (unit_code, filing_number);
