"""Narration speech: the scratch voice (voice), speech found in recordings (segments), text aligned
to it (align) and captions split from it (cues). `narration_speech` prepares every scene's."""
