"""Spoken digits synthesised with espeak-ng and resampled with sox, the same bytes every time.

No Python package ships spoken-word audio, so the clips are made here: each of the ten digit
words by each speaker (an espeak-ng accent with a voice variant) at several speeds and
pitches. sox resamples espeak-ng's 22.05 kHz WAV to 8 kHz float samples (no dither, so no
randomness) and trims the silence around the word; `place` then puts the word at a seeded
offset in one second, at a seeded level, with seeded white noise at `SNR_DB`. Every seed is
a hash of the clip's own description, so a clip never depends on which others were made.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import shutil
import subprocess
import zlib

import numpy as np

from trainers.speech_transformer.features import RATE, SAMPLES, WORDS

APT = "apt-get install espeak-ng sox"
ACCENTS = (  # espeak-ng's own English voices (the mbrola ones need extra packages)
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-rp",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
VARIANTS = (  # voice variants (espeak-ng --voices=variant): formants, pitch range, breath
    *(f"m{i}" for i in range(1, 9)),
    *(f"f{i}" for i in range(1, 6)),
    "klatt",
    "klatt2",
    "klatt3",
    "klatt4",
    "adam",
    "Alex",
    "Alicia",
    "Andy",
    "Annie",
    "aunty",
    "belinda",
    "benjamin",
    "david",
    "ed",
    "Gene",
    "linda",
    "steph",
)
# One speaker per variant, the accents taken in turn: 30 voices, none sharing a variant.
SPEAKERS = tuple(f"{ACCENTS[i % len(ACCENTS)]}+{v}" for i, v in enumerate(VARIANTS))
# Heard only in training: variants no speaker above uses, nor a numbered sibling of one
# (steph2, Gene2, klatt5 are left out), so the eval and test voices stay unheard. ("Mr"
# is left out too: espeak-ng 1.51 renders it as the plain accent.)
TRAIN_VARIANTS = (
    *("Andrea", "antonio", "boris", "caleb", "Denis", "Diogo", "edward", "gustave"),
    *("announcer", "Henrique", "Hugo", "iven", "Jacky", "john", "kaukovalta", "Lee"),
    *("marcelo", "Marco", "Mario", "max", "Michael", "michel", "miguel", "Mike"),
    *("Nguyen", "pablo", "paul", "pedro", "quincy", "rob", "robert", "zac"),
    *("anika", "grandpa", "grandma", "norbert", "sandro", "shelby", "travis", "victor"),
)
TRAIN_SPEAKERS = tuple(
    f"{ACCENTS[(len(VARIANTS) + i) % len(ACCENTS)]}+{v}" for i, v in enumerate(TRAIN_VARIANTS)
)
SPEEDS = (130, 160, 190, 220)  # words per minute (espeak-ng -s; its default is 175)
PITCHES = (30, 50, 70)  # espeak-ng -p, 0..99 (default 50)
SNR_DB = 20.0  # speech power over the background noise's
LEVELS = (0.3, 0.9)  # the word's peak amplitude is drawn from this range


def split_of(speaker: str) -> str:
    """'train', 'eval' or 'test': of `SPEAKERS`, every fifth is test and the one before it eval.

    Every one of `TRAIN_SPEAKERS` is train.
    """
    if speaker in TRAIN_SPEAKERS:
        return "train"
    turn = SPEAKERS.index(speaker) % 5
    return {3: "eval", 4: "test"}.get(turn, "train")


@dataclasses.dataclass(frozen=True)
class Clip:
    """What one clip says and how."""

    word: str
    """The digit word, one of `WORDS`."""
    speaker: str
    """espeak-ng voice, ACCENT+VARIANT."""
    speed: int
    """Words per minute."""
    pitch: int
    """espeak-ng pitch, 0..99."""

    @property
    def key(self) -> str:
        """A stable description; its hash seeds the clip's offset, level and noise."""
        return f"{self.word}/{self.speaker}/{self.speed}/{self.pitch}"


def clips(speakers=SPEAKERS, speeds=SPEEDS, pitches=PITCHES) -> list[Clip]:
    """Every combination, the digit changing fastest (any prefix holds every digit)."""
    return [
        Clip(word, speaker, int(speed), int(pitch))
        for speaker in speakers
        for speed in speeds
        for pitch in pitches
        for word in WORDS
    ]


def require() -> None:
    """Checks that both programs are installed.

    Raises:
        FileNotFoundError: naming the missing program and the apt command.
    """
    for program in ("espeak-ng", "sox"):
        if shutil.which(program) is None:
            raise FileNotFoundError(
                f"speech_transformer synthesises its digits with espeak-ng and resamples them "
                f"with sox, and {program} is not installed: run `{APT}`"
            )


def _run(args: list[str], data: bytes | None = None) -> bytes:
    done = subprocess.run(args, input=data, capture_output=True, check=False)
    if done.returncode != 0 or not done.stdout:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise RuntimeError(f"{' '.join(args[:3])} failed: {why[-1] if why else 'no output'}")
    return done.stdout


def speak(clip: Clip) -> np.ndarray:
    """The word alone, float32 at `RATE` Hz, the silence before and after it trimmed."""
    wav = _run(
        ["espeak-ng", "-v", clip.speaker, "-s", str(clip.speed), "-p", str(clip.pitch)]
        + ["--stdout", clip.word]
    )
    trim = ["silence", "1", "0.01", "1%"]  # from the first 10 ms above 1% of full scale
    raw = _run(
        ["sox", "-D", "-t", "wav", "-", "-t", "raw", "-e", "floating-point", "-b", "32"]
        + ["-c", "1", "-r", str(RATE), "-", *trim, "reverse", *trim, "reverse"],
        wav,
    )
    return np.frombuffer(raw, "<f4").astype(np.float32)


def place(speech: np.ndarray, clip: Clip) -> np.ndarray:
    """float32 [SAMPLES]: the word at a seeded offset and level, plus seeded noise."""
    rng = np.random.default_rng(zlib.crc32(clip.key.encode()))
    speech = np.asarray(speech, np.float64)[:SAMPLES]
    speech *= rng.uniform(*LEVELS) / max(float(np.abs(speech).max()), 1e-9)
    start = int(rng.integers(0, SAMPLES - len(speech) + 1))
    out = np.zeros(SAMPLES)
    out[start : start + len(speech)] = speech
    noise = np.sqrt(np.mean(speech**2) / 10 ** (SNR_DB / 10))
    out += rng.normal(0.0, noise, SAMPLES)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def waveform(clip: Clip) -> np.ndarray:
    """One clip's float32 [SAMPLES] waveform."""
    return place(speak(clip), clip)


def waveforms(wanted: list[Clip], workers: int = 0) -> list[np.ndarray]:
    """The clips' waveforms in order, made by `workers` threads (0: one per CPU)."""
    require()
    # Each clip is two short processes, so threads waiting on them keep every core busy.
    with concurrent.futures.ThreadPoolExecutor(int(workers) or os.cpu_count() or 1) as pool:
        return list(pool.map(waveform, wanted))
