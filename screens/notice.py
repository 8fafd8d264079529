"""The one-line outcome shown after an action: ``✔ done`` or ``✖ refused: why``.

Messages often quote subscriber text (titles, names), so they go through ``inert`` and into
the Content as data: never interpreted as markup or terminal control. The colours are the
theme's (``$error``, ``$success``), resolved where the line is drawn; the marks ``✖``/``✔``
carry the meaning without colour (NO_COLOR).
"""

from __future__ import annotations

from textual.content import Content

from console.text import inert


def notice_text(message: str, *, error: bool = False) -> Content:
    if error:
        return Content.assemble(("✖ ", "bold $error"), (inert(message), "$error"))
    return Content.assemble(("✔ ", "bold $success"), inert(message))
