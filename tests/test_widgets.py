"""The account explorer, driven from Python as a learner would click it."""

from __future__ import annotations

from labkit.widgets import AccountExplorer


def test_explorer__lists_every_user(lab):
    explorer = AccountExplorer(lab)
    assert list(explorer.picker.options)[:3] == ["alice", "alice-admin", "bob"]
    assert "svc-telemetry" in explorer.picker.options


def test_explorer__shows_groups_and_policies_of_the_picked_user(lab):
    explorer = AccountExplorer(lab)
    explorer.picker.value = "carol"
    html = explorer.details.value
    assert "admins" in html and "developers" in html
    assert "AdministratorAccess" in html and "AppDataReadWrite" in html
    assert "Attached to the user directly:</b> <i>none</i>" in html


def test_explorer__flags_policies_attached_to_the_user(lab):
    explorer = AccountExplorer(lab, user="henry")
    assert "⚠" in explorer.details.value and "AmazonEC2ReadOnlyAccess" in explorer.details.value


def test_explorer__refresh_sees_changes_to_the_account(lab):
    explorer = AccountExplorer(lab, user="frank")
    assert "<b>Groups:</b> <i>none</i>" in explorer.details.value
    lab.client("iam").add_user_to_group(GroupName="auditors", UserName="frank")
    lab.client("iam").create_user(UserName="zoe")
    explorer.refresh_button.click()
    assert "auditors" in explorer.details.value and "ReadOnlyAccess" in explorer.details.value
    assert "zoe" in explorer.picker.options
    assert explorer.picker.value == "frank"


def test_explorer__displays_as_a_widget(lab):
    bundle = AccountExplorer(lab)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
