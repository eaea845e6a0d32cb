"""The scratch voice: narration text spoken by espeak-ng's Indonesian voice, offline, for drafts.

The library and its voice data come inside the `espeakng-loader` wheel (nothing is installed on the
system, nothing is downloaded); it is driven through ctypes in synchronous mode, so the synth
callback receives the samples together with word events that carry their sample positions. Those
give each word's start; its end is the last sound before the next word. The result is cached as a
WAV plus a JSON of word timings, keyed by text, voice, rate and engine version, so `plan` and
`render` measure the real length of the draft's narration before anything is rendered.

espeak-ng keeps global state that carries over from one utterance to the next (the same text
comes out a few samples different after other texts), so each narration is spoken in a fresh child
process (`python -m kbvideo.speech.voice`): the same text, voice and rate always give the same WAV,
and the timeline (and its golden tests) does not depend on what was spoken before.
"""

from __future__ import annotations

import array
import ctypes
import functools
import hashlib
import json
import os
import secrets
import subprocess
import sys
import threading
import wave
from dataclasses import asdict
from pathlib import Path

import kbvideo
from kbvideo.errors import KbError
from kbvideo.fsutil import prepare_cache_dir, replace_into, write_atomic
from kbvideo.i18n import _
from kbvideo.speech.model import Speech, Word, letters, tokens

VOICE = "id"  # espeak-ng's Indonesian voice
DEFAULT_RATE = 150  # words per minute (espeak's own scale); about 13 characters a second in Indonesian
RATE_MIN, RATE_MAX = 80, 450
CACHE_FORMAT = 3

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_POS_CHARACTER = 1
_RATE = 1
_EVENT_END_OF_LIST, _EVENT_WORD = 0, 1
_FRAME = 0.010  # seconds per energy frame when looking for the end of a word
_QUIET = 0.05  # a frame quieter than 5 % of the loudest frame's RMS (-26 dB) is silence
CREST_DB = 7.0  # peaks kept at most this far above the speech's RMS (espeak's own pulses reach ~18 dB over its loudness)
PEAK_DBFS = -6.5  # about -18 LUFS then: the level of a typical recorded narration
_LIMIT_WINDOW = 0.004  # seconds: the peak limiter's attack/release

_lock = threading.Lock()


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


def voice_label(rate: int) -> str:
    return f"espeak-ng {VOICE}, {rate} wpm"


def engine_version() -> str:
    try:
        from importlib.metadata import version

        return version("espeakng-loader")
    except Exception:  # noqa: BLE001 - only part of a cache key
        return "unknown"


@functools.lru_cache(maxsize=1)
def _engine() -> tuple[ctypes.CDLL, int]:
    """Load and initialise the bundled libespeak-ng once per process: (library, sample rate)."""
    hint = _("reinstall kbvideo (pip install -e .); the scratch voice comes from the espeakng-loader package")
    try:
        import espeakng_loader
    except ImportError as exc:
        raise KbError(_("the scratch voice is not installed (espeakng-loader is missing)"), hint) from exc
    try:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path()
    except (OSError, RuntimeError) as exc:
        raise KbError(_("cannot load the scratch voice: {reason}").format(reason=exc), hint) from exc
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetSynthCallback.argtypes = [_Callback]
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                 ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode(), _INITIALIZE_DONT_EXIT)
    if rate <= 0:
        raise KbError(_("cannot start the scratch voice (espeak-ng data in {path})").format(path=data), hint)
    if lib.espeak_SetVoiceByName(VOICE.encode()) != 0:
        raise KbError(_("the scratch voice has no Indonesian voice ('{voice}')").format(voice=VOICE), hint)
    return lib, rate


def synthesize(text: str, rate: int = DEFAULT_RATE) -> tuple[array.array, int, list[tuple[int, int]]]:
    """(16-bit mono samples, sample rate, [(0-based character position, sample)] of each word event)."""
    lib, sample_rate = _engine()
    samples = array.array("h")
    events: list[tuple[int, int]] = []

    def on_audio(wav, count, event_list) -> int:
        if wav and count > 0:
            samples.extend(ctypes.cast(wav, ctypes.POINTER(ctypes.c_short * count)).contents)
        i = 0
        while event_list[i].type != _EVENT_END_OF_LIST:
            event = event_list[i]
            if event.type == _EVENT_WORD:
                events.append((event.text_position - 1, event.sample))
            i += 1
        return 0

    callback = _Callback(on_audio)  # kept alive until the synthesis returns
    data = text.encode("utf-8")
    with _lock:
        lib.espeak_SetSynthCallback(callback)
        lib.espeak_SetVoiceByName(VOICE.encode())
        lib.espeak_SetParameter(_RATE, int(rate), 0)
        status = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None)
    if status != 0 or not samples:
        raise KbError(_("the scratch voice could not speak the narration text (espeak-ng status {status})")
                      .format(status=status), _("check the text for unusual characters"))
    return samples, sample_rate, events


def _speak_in_child(text: str, rate: int, wav_path: Path) -> list[tuple[int, int]]:
    """Speak `text` into `wav_path` in a fresh process; returns the word events."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(kbvideo.__file__).resolve().parent.parent),
                                                    env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-m", "kbvideo.speech.voice"], input=json.dumps(
        {"text": text, "rate": int(rate), "wav": str(wav_path)}), capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        reason = lines[-1] if lines else _("exit status {returncode}").format(returncode=proc.returncode)
        raise KbError(_("the scratch voice failed: {reason}").format(reason=reason),
                      _("check the narration text; reinstall kbvideo if this persists"))
    return [tuple(e) for e in json.loads(proc.stdout)["events"]]


def _child_main() -> int:
    request = json.loads(sys.stdin.read())
    try:
        samples, sample_rate, events = synthesize(request["text"], request["rate"])
    except KbError as exc:
        print(exc.message, file=sys.stderr)
        return 3
    with wave.open(request["wav"], "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.tobytes())
    print(json.dumps({"events": events}))
    return 0


def _read_wav(path: Path) -> tuple[array.array, int]:
    with wave.open(str(path)) as f:
        samples = array.array("h")
        samples.frombytes(f.readframes(f.getnframes()))
        return samples, f.getframerate()


def tame_peaks(samples: array.array, sample_rate: int) -> array.array:
    """Peaks limited to CREST_DB above the speech's RMS, smoothly, then peaks at PEAK_DBFS.

    espeak's glottal pulses stand ~18 dB over its loudness; normalised to -14 LUFS under a -1 dBTP
    ceiling such a voice would need hard limiting in the mix (and still overshoot between samples).
    A smooth gain (minimum over 2 windows, averaged over 1: never above the needed gain) does not click."""
    import numpy as np

    x = np.frombuffer(samples.tobytes(), dtype=np.int16).astype(np.float64)
    if not len(x) or not np.any(x):
        return samples
    step = max(1, int(sample_rate * _FRAME))
    count = len(x) // step
    rms = np.sqrt((x[: count * step].reshape(count, step) ** 2).mean(axis=1)) if count else np.array([1.0])
    speech = rms[rms > rms.max() * _QUIET]
    level = float(np.sqrt((speech ** 2).mean())) if len(speech) else float(rms.max())
    threshold = level * 10 ** (CREST_DB / 20)
    need = np.minimum(1.0, threshold / np.maximum(np.abs(x), 1e-9))
    w = max(1, int(sample_rate * _LIMIT_WINDOW))
    padded = np.pad(need, w, mode="edge")
    held = np.lib.stride_tricks.sliding_window_view(padded, 2 * w + 1).min(axis=1)
    kernel = np.ones(w) / w
    gain = np.convolve(np.pad(held, (w // 2, w - 1 - w // 2), mode="edge"), kernel, mode="valid")
    y = x * gain
    y *= (32767 * 10 ** (PEAK_DBFS / 20)) / max(1e-9, float(np.abs(y).max()))
    out = array.array("h")
    out.frombytes(np.round(y).astype(np.int16).tobytes())
    return out


def _loudness_frames(samples: array.array, sample_rate: int) -> tuple[list[bool], int]:
    """Which 10-ms frames carry sound, and the frame length in samples."""
    import numpy as np

    step = max(1, int(sample_rate * _FRAME))
    values = np.frombuffer(samples.tobytes(), dtype=np.int16).astype(np.float64)
    count = len(values) // step
    if count == 0:
        return [], step
    rms = np.sqrt((values[: count * step].reshape(count, step) ** 2).mean(axis=1))
    return list(rms > rms.max() * _QUIET), step


def time_words(text: str, events: list[tuple[int, int]], loud: list[bool], step: int, total: int,
               sample_rate: int) -> tuple[Word, ...]:
    """Each token's start (its first word event) and end (its last loud frame before the next word)."""
    spans = tokens(text)
    starts: list[int | None] = []
    for begin, end in spans:
        inside = [sample for position, sample in events if begin <= position < end]
        starts.append(min(inside) if inside else None)
    known = [(i, s) for i, s in enumerate(starts) if s is not None]
    for i, value in enumerate(starts):  # a token espeak gave no event (rare): share the time by letters
        if value is not None:
            continue
        before = max(((j, s) for j, s in known if j < i), default=(-1, 0))
        after = min(((j, s) for j, s in known if j > i), default=(len(spans), total))
        weights = [max(1, letters(text[b:e])) for b, e in spans[before[0] + 1: after[0]]]
        done = sum(weights[: i - before[0] - 1])
        starts[i] = before[1] + (after[1] - before[1]) * done // max(1, sum(weights))
    words = []
    for i, (begin, end) in enumerate(spans):
        start = starts[i]
        limit = starts[i + 1] if i + 1 < len(spans) else total
        limit = max(limit, start)
        last = start
        for frame in range(start // step, min(len(loud), -(-limit // step))):
            if loud[frame]:
                last = min(limit, (frame + 1) * step)
        words.append(Word(begin, end, start / sample_rate, max(last, start) / sample_rate))
    return tuple(words)


def scratch_speech(text: str, rate: int, folder: Path) -> Speech:
    """The narration text spoken by the scratch voice: a cached WAV in `folder` and its word timings."""
    key = hashlib.sha256(json.dumps([CACHE_FORMAT, text, VOICE, int(rate), engine_version()]).encode()).hexdigest()[:24]
    wav_path = folder / f"{key}.wav"
    meta_path = folder / f"{key}.json"
    if wav_path.exists() and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            return Speech(str(wav_path), meta["seconds"], text, meta["voice"], tuple(Word(**w) for w in meta["words"]),
                          meta["speech_start"], meta["speech_end"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is made again
    prepare_cache_dir(folder)
    token = secrets.token_hex(4)
    tmp_wav = folder / f".{key}-{token}.wav"
    try:
        events = _speak_in_child(text, rate, tmp_wav)
        samples, sample_rate = _read_wav(tmp_wav)
        samples = tame_peaks(samples, sample_rate)
        with wave.open(str(tmp_wav), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(samples.tobytes())
    except BaseException:
        tmp_wav.unlink(missing_ok=True)
        raise
    loud, step = _loudness_frames(samples, sample_rate)
    words = time_words(text, events, loud, step, len(samples), sample_rate)
    sounding = [i for i, flag in enumerate(loud) if flag]
    speech = Speech(str(wav_path), len(samples) / sample_rate, text, voice_label(rate), words,
                    (sounding[0] * step / sample_rate) if sounding else 0.0,
                    ((sounding[-1] + 1) * step / sample_rate) if sounding else 0.0)
    replace_into(tmp_wav, wav_path)
    write_atomic(meta_path, json.dumps({"seconds": speech.seconds, "voice": speech.voice,
                                        "words": [asdict(w) for w in words], "speech_start": speech.speech_start,
                                        "speech_end": speech.speech_end}))
    return speech


if __name__ == "__main__":
    sys.exit(_child_main())
