"""The identity diagram: users, groups and policies, with direct attachments dashed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from labkit.plots import identity_diagram  # noqa: E402


def test_identity_diagram__labels_every_user_group_and_policy(lab):
    fig = identity_diagram(lab)
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert {"alice", "henry", "developers", "admins", "AdministratorAccess", "AppDataReadWrite"} <= labels
    plt.close(fig)


def test_identity_diagram__dashes_policies_attached_to_users(lab):
    fig = identity_diagram(lab)
    dashed = [line for line in fig.axes[0].lines if line.get_linestyle() == "--"]
    assert len(dashed) == 2  # henry's AmazonEC2ReadOnlyAccess and svc-telemetry's AcmeTelemetryWrite
    plt.close(fig)
    lab.client("iam").detach_user_policy(UserName="henry", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    fig = identity_diagram(lab)
    assert len([line for line in fig.axes[0].lines if line.get_linestyle() == "--"]) == 1
    plt.close(fig)
