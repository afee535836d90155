"""exportspirit / importspirit round-trip through a file; the admin's "Export as JSON"."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from spirits.models import Spirit
from teams.models import Role
from teams.tests.admin_utils import action_names, message_texts, run_action, staff_client
from teams.tests.factories import TeamFactory

from .portability_fixtures import all_rows, counts, fill_spirit, relations

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:spirits_spirit_changelist")


def test_the_commands_round_trip_through_a_file(spirit, tmp_path):
    fill_spirit(spirit)
    path = tmp_path / "spirit.json"
    call_command("exportspirit", str(spirit.pk), "-o", str(path), stderr=io.StringIO())
    target = TeamFactory()
    out = io.StringIO()
    call_command("importspirit", str(path), "--team", target.slug, stdout=out, stderr=io.StringIO())
    copy = Spirit.objects.get(pk=out.getvalue().strip())
    assert copy.team_id == target.pk
    assert counts(copy.pk) == counts(spirit.pk)
    original, copied = relations(spirit.pk), relations(copy.pk)
    assert all(copied[key] == original[key] for key in original)


def test_the_export_goes_to_stdout_by_default(spirit):
    out = io.StringIO()
    call_command("exportspirit", str(spirit.pk), "--no-progress", stdout=out)
    assert json.loads(out.getvalue())["spirit"]["name"] == spirit.name


def test_both_commands_draw_a_progress_bar_on_stderr(spirit, team, tmp_path):
    fill_spirit(spirit)
    path, err = tmp_path / "spirit.json", io.StringIO()
    call_command("exportspirit", str(spirit.pk), "-o", str(path), stderr=err)
    assert "events     [##############################] 6/6" in err.getvalue()
    err = io.StringIO()
    call_command("importspirit", str(path), "--team", team.slug, stdout=io.StringIO(), stderr=err)
    assert "memories   [##############################] 5/5" in err.getvalue()
    assert "Imported" in err.getvalue()


def test_the_embeddings_flag_adds_the_vectors(spirit):
    fill_spirit(spirit)
    out = io.StringIO()
    call_command("exportspirit", str(spirit.pk), "--embeddings", "--no-progress", stdout=out)
    assert json.loads(out.getvalue())["events"][0]["embedding"]["model"] == "test-model"


def test_an_unknown_spirit_is_a_command_error():
    with pytest.raises(CommandError, match="No live spirit"):
        call_command("exportspirit", "not-an-id")


def test_a_broken_file_is_refused_whole_with_its_problems(spirit, team, tmp_path):
    fill_spirit(spirit)
    path = tmp_path / "spirit.json"
    call_command("exportspirit", str(spirit.pk), "-o", str(path), "--no-progress")
    document = json.loads(path.read_text())
    document["memories"][0]["events"][0]["event"] = "00000000-0000-0000-0000-000000000000"
    path.write_text(json.dumps(document))
    before = all_rows()
    with pytest.raises(CommandError, match=r"memories\[0\]\.events\[0\]\.event: Names"):
        call_command("importspirit", str(path), "--team", team.slug, "--no-progress")
    assert all_rows() == before


def test_a_file_that_is_not_json_is_a_command_error(team, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    with pytest.raises(CommandError, match="not a JSON document"):
        call_command("importspirit", str(path), "--team", team.slug)


def test_an_unknown_team_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No team"):
        call_command("importspirit", str(tmp_path / "x.json"), "--team", "nobody")


def test_the_admin_action_returns_a_download(admin_client, spirit):
    fill_spirit(spirit)
    response = run_action(admin_client, CHANGELIST, "export_json", [spirit])
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="spirit-')
    document = json.loads(b"".join(response.streaming_content))
    assert document["spirit"]["id"] == str(spirit.pk) and len(document["events"]) == 6


def test_the_admin_action_wants_exactly_one_spirit(admin_client, spirit, team):
    other = Spirit.objects.create(team=team, name="other")
    response = run_action(admin_client, CHANGELIST, "export_json", [spirit, other])
    assert "Select exactly one live spirit to export." in message_texts(response)


def test_the_admin_action_is_for_admins_of_the_team(team, spirit):
    models = ["spirits.spirit"]
    member = staff_client(team=team, models=models, role=Role.MEMBER)
    assert "export_json" not in action_names(member.get(CHANGELIST))
    admin = staff_client(team=team, models=models, role=Role.ADMIN)
    assert "export_json" in action_names(admin.get(CHANGELIST))


def test_the_admin_action_exports_nothing_of_another_team(team, foreign_spirit):
    admin = staff_client(team=team, models=["spirits.spirit"], role=Role.ADMIN)
    response = run_action(admin, CHANGELIST, "export_json", [foreign_spirit])
    assert "Content-Disposition" not in response
