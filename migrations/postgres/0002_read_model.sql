-- Read model (crates/store/src/record.rs): indexes for the patient search.
-- Keep in step with migrations/sqlite/0002_read_model.sql.
--
-- The name search is a case-insensitive PREFIX match on the last name OR
-- the first name, ordered by (last, first, icn) case-insensitively. The key
-- is lower(col) compared byte-wise (COLLATE "C"), whatever the database's
-- collation: a C-collation b-tree serves both the prefix range
-- (`key >= $1 AND key < $2`, usable by generic plans too) and the ORDER BY.
-- NULLS FIRST matches SQLite's NULL ordering. Each alternative runs as its
-- own `ORDER BY … LIMIT n` branch:
--   * last-name branches walk patient_demographics_search_last in order and
--     stop after n entries;
--   * first-name branches range-scan patient_demographics_search_first and
--     sort only what it holds.
-- INCLUDE makes both covering (index-only scans once the table is vacuumed).
-- search_last supersedes 0001's (lower(name_last), lower(name_first)) index.
DROP INDEX clinical.patient_demographics_name;
CREATE INDEX patient_demographics_search_last ON clinical.patient_demographics (
    (lower(name_last)) COLLATE "C" NULLS FIRST,
    (lower(name_first)) COLLATE "C" NULLS FIRST,
    icn COLLATE "C"
) INCLUDE (name_last, name_first);
CREATE INDEX patient_demographics_search_first ON clinical.patient_demographics (
    (lower(name_first)) COLLATE "C" NULLS FIRST,
    (lower(name_last)) COLLATE "C" NULLS FIRST,
    icn COLLATE "C"
) INCLUDE (name_last, name_first);
