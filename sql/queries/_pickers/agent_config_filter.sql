-- Filter on the model of the most used marketplace agent, as a user narrowing the
-- marketplace to agents built on one model would.
SELECT coalesce(
    (SELECT jsonb_build_object('model', configuration -> 'model')
     FROM agents
     WHERE is_public AND status = 'active' AND configuration ? 'model'
     ORDER BY usage_count DESC, id DESC
     LIMIT 1),
    '{"model": "none"}'::jsonb) AS filter
