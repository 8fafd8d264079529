"""The classification wizard: open a new case or reclassify one, a step at a time.

``model`` holds the state and its transitions (pure, no Textual); one widget per step
(``target_step``, ``type_step``, ``priority_step``, ``component_step``, ``summary_step``);
``screen`` sequences them, reads through ``console.views.wizard`` and records through
``console.actions``; ``opening`` pushes it from the app.
"""

from screens.wizard.model import PRIORITY_LABELS, TYPE_LABELS
from screens.wizard.opening import open_new_case_wizard, open_reclassify_wizard
from screens.wizard.screen import ClassifyWizard, WizardDone

__all__ = [
    "PRIORITY_LABELS",
    "TYPE_LABELS",
    "ClassifyWizard",
    "WizardDone",
    "open_new_case_wizard",
    "open_reclassify_wizard",
]
