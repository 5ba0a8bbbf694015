-- What the auth NOTIFY says changed, so each server forgets only the cache entries it could have changed instead of
-- all of them (every new workspace inserts a membership: each one used to empty every replica's cache). A cached
-- key holds its own row (k:<key_hash>) and the role of the membership of (its workspace, its user)
-- (m:<workspace_id>:<user_id>); a cached user is its users row (u:<id>). Row-level, so deletes cascading from a
-- workspace or a user name every row they take; PostgreSQL sends identical payloads of one transaction once.
-- Written by hand: drizzle-kit does not make triggers.
CREATE OR REPLACE FUNCTION clanker_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'api_keys' THEN
    PERFORM pg_notify('clanker_auth', 'k:' || OLD.key_hash);
    IF TG_OP = 'UPDATE' AND NEW.key_hash IS DISTINCT FROM OLD.key_hash THEN
      PERFORM pg_notify('clanker_auth', 'k:' || NEW.key_hash);
    END IF;
  ELSIF TG_TABLE_NAME = 'memberships' THEN
    IF TG_OP <> 'INSERT' THEN
      PERFORM pg_notify('clanker_auth', 'm:' || OLD.workspace_id || ':' || OLD.user_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
      PERFORM pg_notify('clanker_auth', 'm:' || NEW.workspace_id || ':' || NEW.user_id);
    END IF;
  ELSIF TG_TABLE_NAME = 'users' THEN
    PERFORM pg_notify('clanker_auth', 'u:' || OLD.id);
  ELSE
    PERFORM pg_notify('clanker_auth', TG_TABLE_NAME);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DROP TRIGGER api_keys_auth_deleted ON api_keys;
--> statement-breakpoint
CREATE TRIGGER api_keys_auth_deleted AFTER DELETE ON api_keys FOR EACH ROW EXECUTE FUNCTION clanker_auth_changed();
--> statement-breakpoint
DROP TRIGGER memberships_auth_changed ON memberships;
--> statement-breakpoint
CREATE TRIGGER memberships_auth_changed AFTER INSERT OR UPDATE OR DELETE ON memberships FOR EACH ROW EXECUTE FUNCTION clanker_auth_changed();
--> statement-breakpoint
DROP TRIGGER users_auth_changed ON users;
--> statement-breakpoint
CREATE TRIGGER users_auth_changed AFTER UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION clanker_auth_changed();
