from django.db import migrations

# The audit log stays append-only, with one exception: a purge (or retention) may clear the
# content of entries — before, after, related_after, reason, actor_label — and nothing else,
# and only in a transaction that set `elephantasm.audit_scrub = on` (SET LOCAL, see
# memories.audit.scrub). Ids, object, spirit, team, action, actor type/id, related ids and the
# time must stay as they were; DELETE is still refused, as is any other UPDATE.
FORWARD = """
CREATE OR REPLACE FUNCTION memories_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('elephantasm.audit_scrub', true) = 'on'
       AND NEW.id = OLD.id
       AND NEW.object_type = OLD.object_type
       AND NEW.object_id = OLD.object_id
       AND NEW.spirit_id = OLD.spirit_id
       AND NEW.team_id = OLD.team_id
       AND NEW.action = OLD.action
       AND NEW.actor_type = OLD.actor_type
       AND NEW.actor_id = OLD.actor_id
       AND NEW.related_ids IS NOT DISTINCT FROM OLD.related_ids
       AND NEW.created_at = OLD.created_at
       AND NEW.before IS NULL
       AND NEW.after IS NULL
       AND NEW.related_after IS NULL
       AND NEW.reason = ''
       AND NEW.actor_label = ''
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'memories_auditentry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

BACKWARD = """
CREATE OR REPLACE FUNCTION memories_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'memories_auditentry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("memories", "0007_context_pack")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
