"""The tiny-model fixtures are written in the published formats."""

import torch

from latentsync.models.checkpoint_io import read_state_file


def test_tiny_models_written_in_published_formats(tiny_models):
    state, meta = read_state_file(tiny_models / "unet_tiny.pt")
    assert meta["global_step"] == 0
    assert any(k.endswith("pos_encoder.pe") for k in state)
    whisper = torch.load(tiny_models / "whisper_tiny.pt", weights_only=True)
    assert whisper["dims"]["n_audio_state"] == 384
    assert whisper["model_state_dict"]["encoder.positional_embedding"].shape == (1500, 384)
    assert (tiny_models / "vae" / "config.json").is_file()
    assert (tiny_models / "syncnet_v2.model").stat().st_size > 1000


def test_golden_references_rebuild_bit_for_bit():
    """Every stored reference array (raw, seeded, difference or int16 form) has its source's digest."""
    from tests.helpers.golden import digest, manifest, rebuild_array

    checked = 0
    for stem, entries in manifest().items():
        for key, entry in entries.items():
            array = rebuild_array(stem, key, entry)
            assert list(array.shape) == entry["shape"] and str(array.dtype) == entry["dtype"], (stem, key)
            assert digest(array) == entry["sha256"], f"{stem}/{key} differs from the original's output"
            checked += 1
    assert checked >= 50
