"""The pipeline tests' small clip (40 frames 288x512 + 1.6 s of speech) for the scale-out tests."""

from tests.pipeline.conftest import media_dir_small  # noqa: F401 - a shared session fixture
