-- Identity columns of the loaded tables: their sequences must move past the seeded ids.
SELECT table_name, column_name
FROM information_schema.columns
WHERE table_schema = 'public' AND is_identity = 'YES' AND table_name = ANY(%(tables)s)
