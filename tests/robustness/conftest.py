"""The pipeline tests' tiny-model fixtures, shared with the robustness matrix."""

from tests.pipeline.conftest import media_dir_small, tiny_inference_models  # noqa: F401
