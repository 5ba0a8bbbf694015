-- A session signed out (revoked_at set) on one replica ends its streams and MCP sessions on every replica at once: the
-- COMMIT's NOTIFY names it on the channel the key and membership changes use (0002, 0003). Sessions are not cached, so
-- nothing else needs telling; an older server hearing 's:' forgets its whole cache, which is only slower.
-- Written by hand: drizzle-kit does not make triggers.
CREATE OR REPLACE FUNCTION clanker_session_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL THEN
    PERFORM pg_notify('clanker_auth', 's:' || NEW.id);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER sessions_auth_ended AFTER UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION clanker_session_ended();
