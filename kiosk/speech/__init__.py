"""Spoken prompts: offline text-to-speech (espeak-ng) and the prompter that speaks the
traveller screens' instructions through the speaker device."""

from kiosk.speech.prompter import VoicePrompter
from kiosk.speech.synth import EspeakSynthesizer, SpeechUnavailable

__all__ = ["EspeakSynthesizer", "SpeechUnavailable", "VoicePrompter"]
