"""A draft is small on purpose: its frame size, and the rules profile that judges a render at that size.

Used by the renderer (to size a draft) and by whoever judges a finished file (render, batch, check),
so it lives below all of them.
"""

from __future__ import annotations

import dataclasses

DRAFT_HEIGHT = 480


def draft_size(width: int, height: int) -> tuple[int, int]:
    """The draft's frame size for a `width`×`height` master: 480 lines high, even width, same aspect."""
    if height <= DRAFT_HEIGHT:
        return width, height
    w = round(width * DRAFT_HEIGHT / height / 2) * 2
    return max(2, w), DRAFT_HEIGHT


def draft_profile(profile, width: int, height: int):
    """`profile` for judging a draft of a `width`x`height` master: at the draft's own frame size."""
    draft_width, draft_height = draft_size(width, height)
    return dataclasses.replace(profile, width=draft_width, height=draft_height)


def profile_for_output(profile, timeline, draft: bool):
    """The rules to judge a render of `timeline` by: a draft is small on purpose, so its frame size is its own."""
    if not draft or profile is None:
        return profile
    return draft_profile(profile, timeline.width, timeline.height)
