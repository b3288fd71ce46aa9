-- pgperf: {"indexes": ["idx_content_public_popular"], "keyset": true, "partial": true}
-- The most downloaded public content, first page of a keyset list.
SELECT id, content_type, title, storage_url, downloads, created_at
FROM generated_content
WHERE is_public
ORDER BY downloads DESC, id DESC
LIMIT 20;
