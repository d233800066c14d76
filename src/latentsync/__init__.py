"""LatentSync: audio-conditioned latent-diffusion lip-sync that streams any length and resolution."""

__version__ = "0.1.0"
