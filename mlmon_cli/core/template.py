"""The troposphere Template every built template starts from (single, parent or nested)."""

from __future__ import annotations

from typing import Any

from troposphere import Template


class UncappedTemplate(Template):
    """A Template that lets us count past 500 resources, so the limit error can name the count."""

    def add_resource(self, resource: Any) -> Any:
        return self._update(self.resources, resource)


def new_template() -> Template:
    t = UncappedTemplate()
    t.set_version("2010-09-09")
    return t
