-- A search term a user would type: the longest word of the most used marketplace agent's
-- name (ties: alphabetical), as an ILIKE pattern (pickers double a literal percent sign).
SELECT coalesce(
    (SELECT '%%' || lower(word) || '%%'
     FROM (SELECT name
           FROM agents
           WHERE is_public AND status = 'active'
           ORDER BY usage_count DESC, id DESC
           LIMIT 1) AS top,
          regexp_split_to_table(top.name, '[^[:alnum:]]+') AS word
     WHERE length(word) >= 4
     ORDER BY length(word) DESC, lower(word)
     LIMIT 1),
    '%%agent%%') AS pattern
