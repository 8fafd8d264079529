"""The one-line outcome shown after an action: ``✔ done`` or ``✖ refused: why``.

Messages often quote subscriber text (titles, names), so they go through ``inert`` into a
rich Text: never interpreted as markup or terminal control.
"""

from __future__ import annotations

from rich.text import Text

from console.text import inert


def notice_text(message: str, *, error: bool = False, wrap: bool = True) -> Text:
    text = Text(no_wrap=not wrap)
    if error:
        text.append("✖ ", style="bold red")
        text.append(inert(message), style="red")
    else:
        text.append("✔ ", style="bold green")
        text.append(inert(message))
    return text
