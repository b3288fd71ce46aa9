-- pgperf: {"params": {"user_id": "persona"}, "indexes": ["idx_generated_content_user_created"], "keyset": true}
-- The user's latest generated content (first page, newest first).
SELECT id, content_type, title, storage_url, size_bytes, is_public, downloads, created_at
FROM generated_content
WHERE user_id = %(user_id)s
ORDER BY created_at DESC, id DESC
LIMIT 10;
