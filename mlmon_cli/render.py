"""Jinja2 rendering of human text (alarm descriptions, event messages); never of template structure.

Templates live in the repository's top-level `templates/`; the wheel ships them inside the
package as `mlmon_cli/templates` (see pyproject's force-include), so both layouts are searched.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from .errors import TemplateRenderError


def templates_dir() -> Path:
    """Where the Jinja2 templates are: inside the installed package, else the source checkout."""
    packaged = Path(str(resources.files("mlmon_cli"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


# Templates a component kind ships in its own module (`Component.messages`), by template name.
_INLINE: dict[str, str] = {}


def add_template(name: str, text: str) -> None:
    """Make `text` renderable as `name` (e.g. `events/queue_state.txt.j2`); refuses a name taken by
    a file under templates/ or by another text."""
    if (templates_dir() / name).is_file() or _INLINE.get(name, text) != text:
        raise RuntimeError(f"template {name!r} is defined twice")
    _INLINE[name] = text


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(templates_dir())), jinja2.DictLoader(_INLINE)]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        auto_reload=False,  # templates do not change during a run; skips a stat() per render
        keep_trailing_newline=False,
    )


@cache
def _template(name: str) -> tuple[jinja2.Template, Any]:
    template = _environment().get_template(name)
    return template, template.new_context({}, shared=True)


def render(name: str, **values: Any) -> str:
    """Render a text template. Raises TemplateRenderError naming the template and line.

    The templates only read variables (`{{ x }}`, `{% if %}`; no `set`, macros or globals), so
    one context per template serves every render with the values swapped in: building a Jinja
    context per render was most of the cost of the tens of thousands of alarm descriptions a
    large spec has."""
    try:
        template, context = _template(name)
        context.parent = values
        return "".join(template.root_render_func(context)).strip()
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateRenderError(f"{exc.filename or name}:{exc.lineno}: template error: {exc.message}") from None
    except jinja2.TemplateNotFound:
        raise TemplateRenderError(f"template '{name}' not found under {templates_dir()}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateRenderError(f"{name}: template error: {exc.message}") from None


def readable_template(message: str) -> str:
    """An EventBridge InputTemplate that arrives as the text itself, real line breaks included: a
    plain-string template (the API reference's `"<instance> is in state <status>"`) rather than a
    quoted JSON string, which SNS would deliver with its quotes and `\\n` escapes. It must not read
    as JSON: a leading `[solution]` becomes `solution:`, and any other `{`, `[` or `"` first gets a
    `Message:` prefix."""
    text = re.sub(r"^\[([^\]\n]*)\]\s*", r"\1: ", message.strip())
    return "Message: " + text if text.startswith(("{", "[", '"')) else text
