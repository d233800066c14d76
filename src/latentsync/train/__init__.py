"""Training SyncNet and the lip-sync UNet (``latentsync train syncnet|unet``)."""
