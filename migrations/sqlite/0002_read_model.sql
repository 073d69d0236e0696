-- Read model (crates/store/src/record.rs): indexes for the patient search.
-- Keep in step with migrations/postgres/0002_read_model.sql.
--
-- The name search is a case-insensitive PREFIX match on the last name OR
-- the first name, ordered by (last, first, icn) case-insensitively. Each
-- alternative runs as its own `ORDER BY … LIMIT n` branch over a covering
-- index keyed by the names COLLATE NOCASE (SQLite compares the NOCASE key
-- with range bounds, and its LIKE is ASCII case-insensitive):
--   * last-name branches walk patient_demographics_search_last in order and
--     stop after n entries;
--   * first-name branches range-scan patient_demographics_search_first and
--     sort only index entries.
-- The search_last index supersedes 0001's (name_last, name_first) one.
DROP INDEX clinical.patient_demographics_name;
CREATE INDEX clinical.patient_demographics_search_last ON patient_demographics (name_last COLLATE NOCASE, name_first COLLATE NOCASE, icn);
CREATE INDEX clinical.patient_demographics_search_first ON patient_demographics (name_first COLLATE NOCASE, name_last COLLATE NOCASE, icn);
