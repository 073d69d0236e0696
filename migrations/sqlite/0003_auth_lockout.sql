-- Automatic lockout after repeated failed sign-ins (the web app): a lock
-- with a NULL locked_until lasts until an administrator clears it.
ALTER TABLE auth.users ADD COLUMN locked_until TIMESTAMP;
