"""Interactive widgets for the lessons."""

from labkit.widgets.explorer import AccountExplorer

__all__ = ["AccountExplorer"]
