"""Input rules every vendor shares."""

from __future__ import annotations

import re

#: Deliberately simple: one @, a non-empty local part, a dotted domain, no spaces.
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
