-- A setting's canonical name and the context that says who may change it.
SELECT name, context FROM pg_settings WHERE name = lower(%(name)s)
