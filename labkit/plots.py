"""matplotlib pictures of the lab account, drawn in labkit's one shared style."""

from __future__ import annotations

from importlib import resources
from typing import Any

from labkit.account import UserAccess, all_user_access

__all__ = ["identity_diagram", "STYLE"]

STYLE = str(resources.files("labkit") / "labkit.mplstyle")


def identity_diagram(lab: Any, *, accesses: list[UserAccess] | None = None) -> Any:
    """Users, groups and policies in three columns, with who-gets-what as lines between them.

    Lines from a user straight to a policy (skipping the groups) are drawn dashed in orange: they
    are the attachments best practice asks you to move to a group.
    """
    import matplotlib.pyplot as plt

    accesses = all_user_access(lab.client("iam")) if accesses is None else accesses
    users = [a.user for a in accesses]
    groups = sorted({g for a in accesses for g in a.groups})
    policies = sorted(
        {p for a in accesses for p in a.direct}
        | {p for a in accesses for g in a.groups for p in a.group_attached.get(g, ()) + a.group_inline.get(g, ())}
    )
    columns = {"user": users, "group": groups, "policy": policies}
    xs = {"user": 0.0, "group": 1.0, "policy": 2.0}

    def y(kind: str, name: str) -> float:
        names = columns[kind]
        return 1.0 - (names.index(name) + 0.5) / max(len(names), 1)

    with plt.style.context(STYLE):
        fig, ax = plt.subplots(figsize=(10, max(4.0, 0.38 * max(len(users), len(policies)))))
        for a in accesses:
            for g in a.groups:
                ax.plot([xs["user"], xs["group"]], [y("user", a.user), y("group", g)], color="#8c959f", lw=1)
            for p in a.direct:
                ax.plot([xs["user"], xs["policy"]], [y("user", a.user), y("policy", p)], color="#bf8700", lw=1.5, ls="--")
        for g in groups:
            owner = next(a for a in accesses if g in a.groups)
            for p in owner.group_attached.get(g, ()) + owner.group_inline.get(g, ()):
                ax.plot([xs["group"], xs["policy"]], [y("group", g), y("policy", p)], color="#1f6feb", lw=1)
        for kind, names in columns.items():
            for name in names:
                ax.text(xs[kind], y(kind, name), name, ha="center", va="center", fontsize=9,
                        bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#57606a"})
        ax.set_xticks([0, 1, 2], ["Users", "Groups", "Policies"])
        ax.set_yticks([])
        ax.set_xlim(-0.5, 2.6)
        ax.set_ylim(0, 1)
        ax.spines[["left", "bottom"]].set_visible(False)
        ax.set_title("Who gets which policies (dashed: attached to a user directly)")
        fig.tight_layout()
    return fig
