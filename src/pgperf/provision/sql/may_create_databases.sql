-- Whether the connected role may create databases.
SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user
