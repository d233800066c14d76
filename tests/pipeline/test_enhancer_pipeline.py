"""``infer --enhancer PATH`` end to end: the restorer runs on every generated crop, only the blend region changes."""

from __future__ import annotations

import numpy as np

from latentsync.face.detector import create_detector
from latentsync.pipeline.runner import run_inference
from latentsync.pipeline.timing import StageTimes
from tests.helpers import media
from tests.helpers.enhancer_models import needs_spandrel, write_small_sr
from tests.pipeline.conftest import tiny_options


@needs_spandrel
def test_enhancer_changes_the_mouth_and_leaves_the_rest(tmp_path, tiny_models, tiny_inference_models):
    clip = media.write_video(tmp_path / "clip.mp4", media.demo_frames(16))
    audio = media.write_audio(tmp_path / "speech.wav", media.demo_audio(0.64, start=2.0))
    sr = write_small_sr(tmp_path / "compact_x2.pth", upscale=2)
    plain, enhanced = tmp_path / "plain.mp4", tmp_path / "enhanced.mp4"
    run_inference(tiny_options(tiny_models, clip, audio, plain), tiny_inference_models)
    times = StageTimes()
    run_inference(
        tiny_options(tiny_models, clip, audio, enhanced, enhancer=str(sr), enhancer_strength=0.8),
        tiny_inference_models,
        timings=times,
    )
    assert times.totals["enhance"].frames == 16 and times.totals["paste"].frames == 16

    source = media.read_frames(clip)
    a, b = media.read_frames(plain), media.read_frames(enhanced)
    face = create_detector("mediapipe").detect(source[0])[0]
    nose_y = int(face.landmarks3[2][1])
    mouth = (slice(nose_y + 5, int(face.y2)), slice(int(face.x1) + 5, int(face.x2) - 5))
    eyes = (slice(int(face.y1), int(face.landmarks3[0][1])), slice(int(face.x1), int(face.x2)))

    def change(region) -> float:
        return float(np.mean([np.abs(x[region].astype(float) - y[region]).mean() for x, y in zip(a, b)]))

    assert change(mouth) > 2
    assert change(eyes) < change(mouth) / 3  # what is left there is the encoder's noise
    for y, s in zip(b, source):
        assert media.psnr(y[eyes], s[eyes]) >= 35  # --blend mouth: the enhancer never reaches the eyes
