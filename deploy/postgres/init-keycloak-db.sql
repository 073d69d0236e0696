-- Creates Keycloak's own role and database inside the deployment's PostgreSQL.
--
-- Run by the postgres image's entrypoint from /docker-entrypoint-initdb.d, as
-- the superuser (medz1), once, when the data volume is first initialised. To
-- re-run it, drop the volume (`docker compose down -v`) or run it by hand.
--
-- The password comes from the container's KEYCLOAK_DB_PASSWORD (set in
-- docker-compose.yml); the fallback below is for development only.

\set ON_ERROR_STOP on

\getenv kc_password KEYCLOAK_DB_PASSWORD
\if :{?kc_password}
\else
  \set kc_password 'keycloak-dev-password'
\endif

CREATE ROLE keycloak LOGIN PASSWORD :'kc_password';
CREATE DATABASE keycloak OWNER keycloak ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE keycloak FROM PUBLIC;
GRANT ALL PRIVILEGES ON DATABASE keycloak TO keycloak;
