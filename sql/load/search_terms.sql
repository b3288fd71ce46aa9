-- What users type into the marketplace search box: words of public, active agents' names,
-- the most used agents' words first, as ILIKE '%term%' patterns (one drawn per arrival).
SELECT '%' || word || '%' AS pattern
FROM (
    SELECT lower(w) AS word, max(a.usage_count) AS popularity
    FROM agents a, regexp_split_to_table(a.name, '[^[:alnum:]]+') AS w
    WHERE a.is_public AND a.status = 'active' AND length(w) >= 4
    GROUP BY lower(w)
) AS words
ORDER BY popularity DESC, word
LIMIT 200;
