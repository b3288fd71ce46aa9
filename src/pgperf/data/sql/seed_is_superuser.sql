-- Whether the connected role is a superuser (it may skip FK triggers during the load).
SELECT rolsuper FROM pg_roles WHERE rolname = current_user
