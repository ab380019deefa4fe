"""Display options for the whole kit: ``import fsi_patron_kit as pk; pk.options``.

``show_personal_data`` (off by default) lets notebook reprs (a patron's card, a dry run's body)
show names, emails, phones and addresses. Frames always hold them: a DataFrame is the data you
asked for, while a repr is what a notebook shows to whoever reads it later.
"""

from __future__ import annotations

import attrs

__all__ = ["Options", "options"]


@attrs.define
class Options:
    """Switches that change what the kit shows, never what it sends."""

    #: show personal fields in reprs (frames always hold them)
    show_personal_data: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))


#: The kit's options; change them with ``pk.options.show_personal_data = True``.
options = Options()
