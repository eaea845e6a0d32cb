"""Every scene's narration as speech, before the timeline is resolved (this is the I/O stage).

A narration written as text only is spoken by the scratch voice (a cached WAV); a recording with its
text is searched for its stretches of speech and the text aligned to them. Either way the timeline
then knows, in frames, how long the narration is and when each word is said.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from kbvideo.errors import KbError, SpecError
from kbvideo.speech.align import align_words
from kbvideo.speech.model import Speech
from kbvideo.speech.segments import speech_segments
from kbvideo.speech.voice import DEFAULT_RATE, scratch_speech
from kbvideo.storyboard.model import Storyboard
from kbvideo.i18n import _


def narration_speech(board: Storyboard, seconds_of: Callable[[str], float | None], cache_folder: Path) -> dict[str, Speech]:
    """scene id → Speech, for scenes whose narration has text (recordings without text need nothing).

    `seconds_of(path)` gives a recording's length (from the probe)."""
    out: dict[str, Speech] = {}
    problems = []
    for scene in board.scenes:
        spec = scene.narration
        if spec is None or not spec.text:
            continue
        try:
            if spec.file is None:
                out[scene.id] = scratch_speech(spec.text, spec.rate or DEFAULT_RATE, cache_folder / "voice")
                continue
            seconds = seconds_of(str(spec.file))
            if seconds is None:
                continue  # no sound: reported by the resolver
            segments = speech_segments(str(spec.file), cache_folder / "segments")
        except KbError as exc:  # pointed at the narration's line
            problems.append(spec.loc.problem(_("scene '{id}': {message}").format(id=scene.id, message=exc.message), exc.hint))
            continue
        words = align_words(spec.text, segments, seconds)
        out[scene.id] = Speech(str(spec.file), seconds, spec.text, None, words,
                               segments[0][0] if segments else 0.0, segments[-1][1] if segments else 0.0)
    if problems:
        raise SpecError(problems)
    return out
