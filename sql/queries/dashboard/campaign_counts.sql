-- pgperf: {"params": {"user_id": "persona"}, "indexes": ["idx_campaigns_user_type_status"]}
-- Campaign tiles: the user's campaigns counted by status.
SELECT status, count(*) AS campaigns
FROM campaigns
WHERE user_id = %(user_id)s
GROUP BY status
ORDER BY status;
