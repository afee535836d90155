from django.db import migrations

# The audit log is append-only. The only change allowed is a purge's scrub: under
# `SET LOCAL elephantasm.audit_scrub = 'on'`, an UPDATE may blank the snapshots, reason and label
# and change nothing else (ids, actions and times stay).
FORWARD = """
CREATE FUNCTION memories_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('elephantasm.audit_scrub', true) = 'on'
       AND NEW.id = OLD.id AND NEW.object_type = OLD.object_type
       AND NEW.object_id = OLD.object_id AND NEW.spirit_id = OLD.spirit_id
       AND NEW.team_id = OLD.team_id AND NEW.action = OLD.action
       AND NEW.actor_type = OLD.actor_type AND NEW.actor_id = OLD.actor_id
       AND NEW.created_at = OLD.created_at
       AND NEW.before IS NULL AND NEW.after IS NULL AND NEW.related_after IS NULL
       AND NEW.reason = ''
       AND NEW.actor_label = ''
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'memories_auditentry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER memories_audit_no_update_delete
    BEFORE UPDATE OR DELETE ON memories_auditentry
    FOR EACH ROW EXECUTE FUNCTION memories_audit_append_only();

-- TRUNCATE is refused too, unless the connection opted in (the test suite's flush does, through
-- its connection options; nothing else sets it).
CREATE FUNCTION memories_audit_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('elephantasm.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'memories_auditentry is append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER memories_audit_no_truncate
    BEFORE TRUNCATE ON memories_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION memories_audit_no_truncate();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS memories_audit_no_truncate ON memories_auditentry;
DROP TRIGGER IF EXISTS memories_audit_no_update_delete ON memories_auditentry;
DROP FUNCTION IF EXISTS memories_audit_no_truncate();
DROP FUNCTION IF EXISTS memories_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("memories", "0002_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
