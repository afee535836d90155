from django.db import migrations

# The audit log is append-only: the database refuses every UPDATE and DELETE of an entry.
FORWARD = """
CREATE FUNCTION memories_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
