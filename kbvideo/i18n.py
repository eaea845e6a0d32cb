"""Messages in the user's language (Bahasa Indonesia or English).

Every sentence a person reads goes through ``_()`` (or ``ngettext()``), written with named
placeholders and formatted *after* translation, so a translator sees the whole sentence::

    from kbvideo.i18n import _
    raise MediaError(_("cannot read {path}: {reason}").format(path=path, reason=reason),
                     hint=_("re-export the clip from the phone's gallery"))

Never put an f-string inside ``_()``: the catalog could not find it.

This module is the lowest layer of the package (it imports nothing from kbvideo), so every
stage may use it. The catalogs and the choice of language are filled in by the language work
(issue 11); until a catalog exists, ``_()`` returns the English text unchanged.
"""

from __future__ import annotations

import gettext as _gettext

_translations: _gettext.NullTranslations = _gettext.NullTranslations()


def _(message: str) -> str:
    """The message in the chosen language (English when there is no translation)."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Singular or plural form of a message, in the chosen language."""
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for extraction without translating it yet (module-level constants)."""
    return message
