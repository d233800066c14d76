"""Driving audio: decoding any media file to 16 kHz mono and Whisper features for the UNet."""
