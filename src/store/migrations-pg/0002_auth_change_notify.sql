-- Every replica (and the CLI, or anyone with psql) changing what the authenticator caches — a key's binding or
-- revocation, a membership, a user row — tells every listening server on COMMIT (LISTEN clanker_auth), so a revoked
-- key is refused everywhere on its next request. Written by hand: drizzle-kit does not make triggers.
CREATE FUNCTION clanker_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('clanker_auth', TG_TABLE_NAME);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER api_keys_auth_changed AFTER UPDATE ON api_keys FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id OR OLD.user_id IS DISTINCT FROM NEW.user_id)
  EXECUTE FUNCTION clanker_auth_changed();
--> statement-breakpoint
CREATE TRIGGER api_keys_auth_deleted AFTER DELETE ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION clanker_auth_changed();
--> statement-breakpoint
CREATE TRIGGER memberships_auth_changed AFTER INSERT OR UPDATE OR DELETE ON memberships FOR EACH STATEMENT EXECUTE FUNCTION clanker_auth_changed();
--> statement-breakpoint
CREATE TRIGGER users_auth_changed AFTER UPDATE OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION clanker_auth_changed();
