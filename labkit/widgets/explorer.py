"""The account explorer: pick a user, see their groups and every policy that reaches them."""

from __future__ import annotations

import html
from typing import Any

from labkit.account import UserAccess, user_access

__all__ = ["AccountExplorer", "render_access"]


def _items(names: tuple[str, ...], empty: str = "none") -> str:
    return ", ".join(f"<code>{html.escape(n)}</code>" for n in names) if names else f"<i>{empty}</i>"


def render_access(access: UserAccess) -> str:
    """HTML for what reaches one user, flagging policies attached to the user directly."""
    rows = [f"<h4 style='margin:4px 0'>{html.escape(access.user)}</h4>"]
    rows.append(f"<div><b>Groups:</b> {_items(access.groups)}</div>")
    if access.direct:
        rows.append(
            "<div style='color:#9a6700'>⚠ <b>Attached to the user directly</b> (best practice: grant through a group): "
            f"managed {_items(access.attached)}; inline {_items(access.inline)}</div>"
        )
    else:
        rows.append("<div><b>Attached to the user directly:</b> <i>none</i> ✓</div>")
    for group in access.groups:
        rows.append(
            f"<div>via <b>{html.escape(group)}</b>: managed {_items(access.group_attached.get(group, ()))}; "
            f"inline {_items(access.group_inline.get(group, ()))}</div>"
        )
    return "\n".join(rows)


class AccountExplorer:
    """A dropdown of the account's users and, for the one picked, what grants them permissions.

    Display it as the last expression of a cell. ``refresh()`` re-reads the account after changes.
    """

    def __init__(self, lab: Any, *, user: str | None = None) -> None:
        import ipywidgets as widgets

        self._iam = lab.client("iam")
        self.picker = widgets.Dropdown(description="User", options=self._users())
        self.refresh_button = widgets.Button(description="Refresh", tooltip="Read the account again")
        self.details = widgets.HTML()
        self.widget = widgets.VBox([widgets.HBox([self.picker, self.refresh_button]), self.details])
        self.picker.observe(self._on_pick, names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        if user is not None:
            self.picker.value = user
        self._show()

    def _users(self) -> list[str]:
        pages = self._iam.get_paginator("list_users").paginate()
        return sorted(u["UserName"] for page in pages for u in page["Users"])

    def _on_pick(self, _change: Any) -> None:
        self._show()

    def _show(self) -> None:
        user = self.picker.value
        self.details.value = render_access(user_access(self._iam, user)) if user else "<i>No users in the account.</i>"

    def refresh(self) -> None:
        """Re-read the user list and the picked user's access."""
        current = self.picker.value
        users = self._users()
        self.picker.options = users
        if current in users:
            self.picker.value = current
        self._show()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
