-- A server's version (number and text) and the effective values of the suite's settings.
SELECT current_setting('server_version_num')::int AS version_num,
       current_setting('server_version') AS version,
       coalesce(
           (SELECT jsonb_object_agg(name, current_setting(name))
            FROM pg_settings WHERE name = ANY(%(names)s)),
           '{}'::jsonb
       ) AS settings
